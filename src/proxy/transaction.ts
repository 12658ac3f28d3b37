/**
 * One request on a client connection, from its parsed head to the end of its
 * answer (the role of HAProxy's `stream.c`): what the request is, which rule's
 * counters it runs under, its deadline, and the one listener of the action
 * that took it. Actions talk to it through `Exchange`; it passes their
 * answers to the connection through the narrow `ClientSide`.
 *
 * A connection reuses one transaction for its requests in turn (they never
 * overlap), and gives it back to the spares when idle, so a request allocates
 * no record of its own.
 */
import { RequestHead } from "../http/request-head.ts";
import { METHOD_HEAD } from "../http/request-line.ts";
import type { Protocol } from "../rules/table.ts";
import type { HostStats } from "../stats/host-stats.ts";
import { clock } from "./clock.ts";
import type { BodySink, Exchange, ExchangeListener } from "./exchange.ts";
import { forwardedForOf, forwardingLines } from "./forward-head.ts";

/** What a transaction needs of its client connection. */
export interface ClientSide {
  readonly internal: boolean;
  readonly clientAddress: string;
  readonly keepAlive: boolean;
  readonly closed: boolean;
  readonly bodyDone: boolean;
  respond(response: Uint8Array): void;
  hold(): void;
  release(): void;
  streamBody(sink: BodySink): void;
  sinkResumed(): void;
  takeWholeBody(max: number): Buffer | null;
  send(bytes: Uint8Array, transient: boolean): boolean;
  finish(reusable: boolean): void;
  abort(): void;
  end(): void;
  upgrade(fromClient: (bytes: Buffer) => boolean): void;
  resumeTunnel(): void;
}

const NO_BYTES = Buffer.alloc(0);

export class Transaction implements Exchange {
  readonly head = new RequestHead();
  headBytes: Buffer = NO_BYTES;
  host = "";
  protocol: Protocol = "http";
  isHeadRequest = false;
  stats: HostStats | null = null;
  /** When the deadline falls (0: none); the connection's sweep fires it. */
  deadlineAt = 0;
  private onDeadline: (() => void) | null = null;
  private listener: ExchangeListener | null = null;
  private client!: ClientSide;
  /** Forwarding lines for one client address differ only by two flags: kept per variant. */
  private readonly linesByVariant: (string | undefined)[] = [];
  private linesAddress = "";

  /** Starts a request of `client` whose head is parsed into `head` from `headBytes`. */
  begin(client: ClientSide, headBytes: Buffer, host: string, protocol: Protocol): void {
    this.client = client;
    this.headBytes = headBytes;
    this.host = host;
    this.protocol = protocol;
    this.isHeadRequest = this.head.methodId === METHOD_HEAD;
  }

  /** The request is over: its listener and deadline go. */
  reset(): void {
    this.listener = null;
    this.deadlineAt = 0;
    this.onDeadline = null;
    this.headBytes = NO_BYTES;
  }

  /**
   * The request is given up (client gone, a deadline, a broken body): the
   * action that took it lets go of all it holds, a backend connection first.
   */
  abandon(): void {
    const listener = this.listener;
    this.listener = null;
    this.clearDeadline();
    listener?.abandoned();
  }

  /** The client's socket can take more. */
  clientWritable(): void {
    this.listener?.writable?.();
  }

  /** In a tunnel, the client half-closed. */
  clientEnded(): void {
    this.listener?.clientEnded?.();
  }

  /** Fires the deadline if it has passed; called by the sweep through the connection. */
  expire(now: number): void {
    if (this.deadlineAt === 0 || now < this.deadlineAt) return;
    const then = this.onDeadline;
    this.clearDeadline();
    then?.();
  }

  /** The request leaves the open count; `completed` when its whole response was sent. */
  countEnd(completed: boolean): void {
    const stats = this.stats;
    if (stats === null) return;
    stats.open_requests--;
    if (completed) stats.completed_requests++;
    this.stats = null;
  }

  // --- Exchange ---------------------------------------------------------------

  get internal(): boolean {
    return this.client.internal;
  }

  get clientAddress(): string {
    return this.client.clientAddress;
  }

  get keepAlive(): boolean {
    return this.client.keepAlive;
  }

  get closed(): boolean {
    return this.client.closed;
  }

  get bodyDone(): boolean {
    return this.client.bodyDone;
  }

  listen(listener: ExchangeListener): void {
    this.listener = listener;
  }

  setDeadline(seconds: number, then: () => void): void {
    this.deadlineAt = clock.now + seconds * 1000;
    this.onDeadline = then;
  }

  clearDeadline(): void {
    this.deadlineAt = 0;
    this.onDeadline = null;
  }

  forwardingLines(): string {
    const head = this.head;
    const http10 = head.minor === 0;
    const address = this.client.clientAddress;
    if (this.client.internal) {
      const forwardedFor = forwardedForOf(this.headBytes, head);
      return forwardingLines(true, forwardedFor, address, head.upgrade, http10);
    }
    if (this.linesAddress !== address) {
      this.linesByVariant.length = 0;
      this.linesAddress = address;
    }
    const variant = (head.upgrade ? 1 : 0) | (http10 ? 2 : 0);
    let lines = this.linesByVariant[variant];
    if (lines === undefined) {
      lines = forwardingLines(false, null, address, head.upgrade, http10);
      this.linesByVariant[variant] = lines;
    }
    return lines;
  }

  respond(response: Uint8Array): void {
    this.listener = null;
    this.clearDeadline();
    this.client.respond(response);
  }

  hold(): void {
    this.client.hold();
  }

  release(): void {
    this.client.release();
  }

  streamBody(sink: BodySink): void {
    this.client.streamBody(sink);
  }

  sinkResumed(): void {
    this.client.sinkResumed();
  }

  takeWholeBody(max: number): Buffer | null {
    return this.client.takeWholeBody(max);
  }

  send(bytes: Uint8Array, transient = false): boolean {
    return this.client.send(bytes, transient);
  }

  finish(reusable: boolean): void {
    this.listener = null;
    this.clearDeadline();
    this.client.finish(reusable);
  }

  abort(): void {
    this.listener = null;
    this.clearDeadline();
    this.client.abort();
  }

  end(): void {
    this.client.end();
  }

  upgrade(fromClient: (bytes: Buffer) => boolean): void {
    this.client.upgrade(fromClient);
  }

  resumeTunnel(): void {
    this.client.resumeTunnel();
  }
}
