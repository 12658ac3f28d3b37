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

import type { BackendState } from "../backend/state.ts";
import { RequestHead } from "../http/request-head.ts";
import { METHOD_HEAD } from "../http/request-line.ts";
import type { Protocol } from "../rules/table.ts";
import type { HostStats } from "../stats/host-stats.ts";
import type { RequestEnd } from "../stats/request-end.ts";
import type { ClientSide } from "./client-side.ts";
import { clock } from "./clock.ts";
import type { BodySink, Exchange, ExchangeListener } from "./exchange.ts";
import { forwardedForOf, forwardingLines } from "./forward-head.ts";

const NO_BYTES = Buffer.alloc(0);

export class Transaction implements Exchange, RequestEnd {
  readonly head = new RequestHead();
  headBytes: Buffer = NO_BYTES;
  host = "";
  protocol: Protocol = "http";
  isHeadRequest = false;
  stats: HostStats | null = null;
  ruleKey: string | null = null;
  // What the request came to, for RequestEnd.
  startedAt = 0;
  endedAt = 0;
  status = 0;
  completed = false;
  bytesIn = 0;
  bytesOut = 0;
  backend: BackendState | null = null;
  attempts = 0;
  headMs = -1;
  heldMs = 0;
  private heldSince = 0;
  /** The request has been counted out (a new transaction has no request yet). */
  private ended = true;
  /** When the deadline falls (0: none); the connection's sweep fires it. */
  deadlineAt = 0;
  private onDeadline: (() => void) | null = null;
  private listener: ExchangeListener | null = null;
  private client!: ClientSide;
  /** Forwarding lines for one client address differ only by three flags: kept per variant. */
  private readonly linesByVariant: (string | undefined)[] = [];
  private linesAddress = "";

  /** Starts a request of `client` whose head is parsed into `head` from `headBytes`. */
  begin(client: ClientSide, headBytes: Buffer, host: string, protocol: Protocol): void {
    this.client = client;
    this.headBytes = headBytes;
    this.host = host;
    this.protocol = protocol;
    this.isHeadRequest = this.head.methodId === METHOD_HEAD;
    this.ruleKey = null;
    this.status = 0;
    this.bytesIn = 0;
    this.bytesOut = 0;
    this.backend = null;
    this.attempts = 0;
    this.headMs = -1;
    this.heldMs = 0;
    this.ended = false;
    if (client.observer !== null) this.startedAt = performance.now();
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

  /**
   * The request ends, once: it leaves the open count (`completed` when its
   * whole response was sent) and the observer hears of it.
   */
  countEnd(completed: boolean): void {
    if (this.ended) return;
    this.ended = true;
    this.completed = completed;
    const stats = this.stats;
    if (stats !== null) {
      stats.open_requests--;
      if (completed) stats.completed_requests++;
    }
    const observer = this.client.observer;
    if (observer !== null) {
      this.endedAt = performance.now();
      observer.requestEnded(this);
    }
    this.stats = null;
  }

  /** Request bytes from the client, counted for the request and its rule. */
  received(bytes: number): void {
    this.bytesIn += bytes;
    if (this.stats !== null) this.stats.bytes_received += bytes;
  }

  /** Response bytes to the client. */
  sent(bytes: number): void {
    this.bytesOut += bytes;
    if (this.stats !== null) this.stats.bytes_sent += bytes;
  }

  get method(): string {
    return this.head.method;
  }

  target(): string {
    return this.head.target(this.headBytes);
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
    const https = this.protocol === "https";
    const variant = (head.upgrade ? 1 : 0) | (http10 ? 2 : 0) | (https ? 4 : 0);
    let lines = this.linesByVariant[variant];
    if (lines === undefined) {
      lines = forwardingLines(false, null, address, head.upgrade, http10, https);
      this.linesByVariant[variant] = lines;
    }
    return lines;
  }

  respond(response: Uint8Array): void {
    this.listener = null;
    this.clearDeadline();
    // "HTTP/1.1 NNN": the status, for those who count answers.
    this.status = (response[9]! - 48) * 100 + (response[10]! - 48) * 10 + (response[11]! - 48);
    this.client.respond(response);
  }

  noteResponse(status: number, backend: BackendState, attempts: number, headMs: number): void {
    this.status = status;
    this.backend = backend;
    this.attempts = attempts;
    this.headMs = headMs;
  }

  hold(): void {
    if (this.client.observer !== null) this.heldSince = performance.now();
    this.client.hold();
  }

  release(): void {
    if (this.heldSince !== 0) {
      this.heldMs += performance.now() - this.heldSince;
      this.heldSince = 0;
    }
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
