/**
 * One client connection: a small state machine.
 *
 *   HEAD ──parse──▶ ACTIVE ──request body done and response done──▶ HEAD (keep-alive)
 *                      │                                          └─▶ closed
 *                      └──101 from the backend──▶ UPGRADED (raw two-way pipe)
 *
 * Each request is parsed and routed on its own, and only one is active at a
 * time: bytes of pipelined requests wait, unparsed, until the response before
 * them is complete, so responses leave in order and never interleave. Whenever
 * nothing can take the bytes coming in (a held request, a full backend, a full
 * client socket), reading stops until they can move again.
 */
import type { Socket } from "bun";
import type { BodySink, Exchange } from "../actions/exchange.ts";
import type { Router } from "../actions/router.ts";
import { BodyFramer } from "../http/body-framer.ts";
import type { HeadLimits } from "../http/limits.ts";
import {
  errorReason,
  errorStatus,
  NEED_MORE,
  parseRequestHead,
  RequestHead,
} from "../http/request-head.ts";
import { BodyKind } from "../http/response-head.ts";
import { simpleResponse } from "../http/response-writer.ts";
import { authorityHost, canonicalHost } from "../rules/host.ts";
import type { Protocol } from "../rules/table.ts";
import type { HostStats } from "../stats/host-stats.ts";
import { plainAddress } from "./client-address.ts";
import { clock } from "./clock.ts";
import type { Forward } from "./forward.ts";
import { SPARES, type Spares } from "./spares.ts";
import { WriteQueue } from "./write-queue.ts";

export interface ListenerContext {
  /** A `bind_internal` listener: forwarding headers from the client are trusted. */
  readonly internal: boolean;
  readonly router: Router;
  readonly limits: HeadLimits;
  readonly connections: Set<ClientConnection>;
  /** Beyond this many open client connections, new ones get a fast 503. */
  readonly maxConnections: number;
  readonly spares: Spares;
}

const HEAD = 0;
const ACTIVE = 1;
const UPGRADED = 2;
const CLOSED = 3;

const dropBody: BodySink = () => true;
const NO_BYTES = Buffer.alloc(0);

export class ClientConnection implements Exchange {
  /** Parse state, taken from a shared pool while a request is under way (see `idleDown`). */
  private parsed: RequestHead | null = null;
  headBytes: Buffer = NO_BYTES;
  host = "";
  protocol: Protocol = "http";
  keepAlive = true;
  isHeadRequest = false;
  stats: HostStats | null = null;
  onClose: (() => void) | null = null;
  onDrain: (() => void) | null = null;
  onEnd: (() => void) | null = null;
  forward: Forward | null = null;
  /** When the current deadline falls (0: none); the timeout sweep fires it. */
  deadlineAt = 0;
  private deadlineHandler: (() => void) | null = null;
  /** When a partial head first arrived (0: none pending); read by the timeout sweep. */
  headStartedAt = 0;
  lastActiveAt = clock.now;

  private phase = HEAD;
  private input: Buffer | null = null;
  private readonly out: WriteQueue;
  private sink: BodySink | null = null;
  private sinkBlocked = false;
  private held = false;
  private readonly body = new BodyFramer();
  private responseDone = false;
  /** Some byte of a response to the current request has been written. */
  private answered = false;
  private clientEnded = false;
  private readingPaused = false;
  private pumping = false;
  private upgradeSink: ((bytes: Buffer) => boolean) | null = null;

  constructor(
    readonly socket: Socket<ClientConnection>,
    private readonly context: ListenerContext,
  ) {
    this.out = new WriteQueue(socket);
  }

  /** Asked of the socket only when needed (a proxied request): it costs a getpeername. */
  get clientAddress(): string {
    this.address ??= plainAddress(this.socket.remoteAddress);
    return this.address;
  }

  private address: string | null = null;

  get head(): RequestHead {
    this.parsed ??= this.context.spares.heads.pop() ?? new RequestHead();
    return this.parsed;
  }

  get bodyDone(): boolean {
    return this.body.done;
  }

  get internal(): boolean {
    return this.context.internal;
  }

  get closed(): boolean {
    return this.phase === CLOSED;
  }

  /** Idle between requests: no partial head, no request, nothing left to write. */
  get idle(): boolean {
    return this.phase === HEAD && this.input === null && this.out.empty;
  }

  // --- socket events -------------------------------------------------------

  onData(chunk: Buffer): void {
    this.lastActiveAt = clock.now;
    if (this.phase === UPGRADED) {
      if (this.stats) this.stats.bytes_received += chunk.length;
      if (!this.upgradeSink!(chunk)) this.pauseReading();
      return;
    }
    if (this.phase === CLOSED) return;
    this.input = this.input === null ? chunk : Buffer.concat([this.input, chunk]);
    this.pump();
  }

  onWritable(): void {
    if (!this.out.flush()) return;
    if (this.out.closing) return;
    this.onDrain?.();
    this.pump();
  }

  onPeerEnd(): void {
    this.clientEnded = true;
    if (this.phase === UPGRADED) this.onEnd?.();
    else this.pump();
  }

  onClosed(): void {
    if (this.phase === CLOSED) return;
    const wasIdle = this.phase === HEAD && this.input === null;
    this.phase = CLOSED;
    this.input = null;
    this.context.connections.delete(this);
    const onClose = this.onClose;
    this.onClose = null;
    this.clearDeadline();
    onClose?.();
    if (this.stats) {
      this.stats.open_requests--;
      this.stats = null;
    }
    // Only parts no request still holds go back to the pool.
    if (wasIdle) this.idleDown();
  }

  end(): void {
    this.close();
  }

  /** The head did not arrive in time: answer 408 and close. */
  timeOut(response: Uint8Array): void {
    if (this.phase !== HEAD) return;
    this.headStartedAt = 0;
    this.input = null;
    this.out.write(response);
    this.close();
  }

  /** Closes the connection after what is queued has been written. */
  close(): void {
    if (this.phase === CLOSED) return;
    this.input = null;
    this.out.end();
  }

  // --- the request loop ----------------------------------------------------

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      this.step();
    } finally {
      this.pumping = false;
    }
  }

  private step(): void {
    for (;;) {
      if (this.phase === HEAD) {
        if (this.out.closing) return;
        // A response still leaving: read nothing more until it has (bounds memory, keeps order).
        if (!this.out.empty) return this.pauseReading();
        const input = this.input;
        if (input === null) {
          if (this.clientEnded) return this.close();
          return this.resumeReading();
        }
        const result = parseRequestHead(input, 0, input.length, this.head, this.context.limits);
        if (result === NEED_MORE) {
          if (this.clientEnded) return this.close();
          if (this.headStartedAt === 0) this.headStartedAt = clock.now;
          return this.resumeReading();
        }
        if (result < 0) return this.reject(errorStatus(result), errorReason(result));
        this.begin(input, result);
        continue;
      }
      if (this.phase !== ACTIVE) return;
      if (!this.body.done) {
        if (this.sink === null || this.sinkBlocked || this.held) {
          if (this.input !== null || this.held) this.pauseReading();
          return;
        }
        if (this.input === null) return this.resumeReading();
        if (!this.feedBody()) return;
        continue;
      }
      if (!this.responseDone) {
        // Bytes of the next request wait until this response is complete.
        if (this.input !== null) this.pauseReading();
        else if (!this.held) this.resumeReading();
        return;
      }
      this.complete();
    }
  }

  private begin(input: Buffer, headLength: number): void {
    const head = this.head;
    // Most reads hold exactly one head: keep the buffer itself, no view to make.
    if (headLength === input.length) {
      this.headBytes = input;
      this.input = null;
    } else {
      this.headBytes = input.subarray(0, headLength);
      this.input = input.subarray(headLength);
    }
    this.headStartedAt = 0;
    this.phase = ACTIVE;
    this.isHeadRequest = head.method === "HEAD";
    this.keepAlive = head.keepAlive;
    this.host = canonicalHost(head.host);
    this.protocol =
      this.context.internal && (head.xForwarded === "https" || head.xForwarded === "ssl")
        ? "https"
        : "http";
    // A request without Content-Length or chunked has no body (RFC 9112 §6.3).
    if (head.chunked) this.body.start(BodyKind.Chunked);
    else this.body.start(BodyKind.Length, Math.max(0, head.contentLength));
    this.sink = null;
    this.sinkBlocked = false;
    this.responseDone = false;
    this.answered = false;
    const first = this.headBytes[head.targetStart];
    const absoluteForm = first !== 0x2f && first !== 0x2a && head.method !== "CONNECT";
    // RFC 9112 §3.2.2: a backend would follow the target's authority; routing follows Host.
    if (absoluteForm && authorityHost(head.target(this.headBytes)) !== this.host) {
      return this.reject(400, "Host does not match the authority of the request target");
    }
    this.context.router.dispatch(this);
    if (this.stats) this.stats.bytes_received += headLength;
  }

  /** Moves request body bytes from `input` to the sink. False: stop stepping for now. */
  private feedBody(): boolean {
    const input = this.input!;
    const taken = this.body.take(input, 0, input.length);
    if (taken < 0) {
      this.bodyBroken();
      return false;
    }
    const part = taken === input.length ? input : input.subarray(0, taken);
    this.input = taken === input.length ? null : input.subarray(taken);
    if (this.stats) this.stats.bytes_received += taken;
    if (!this.sink!(part, this.body.done)) this.sinkBlocked = true;
    return true;
  }

  /**
   * The client broke its body's chunked framing. Whatever was forwarded is
   * abandoned (the action's onClose drops its backend connection); the client
   * gets a 400 if no byte of a response has left yet, else just the close.
   */
  private bodyBroken(): void {
    this.body.start(BodyKind.None);
    const onClose = this.onClose;
    this.onClose = null;
    onClose?.();
    this.clearDeadline();
    if (this.answered) this.abort();
    else this.reject(400, "malformed chunked body");
  }

  private complete(): void {
    const stats = this.stats;
    if (stats) {
      stats.open_requests--;
      stats.completed_requests++;
      this.stats = null;
    }
    this.onClose = null;
    this.onDrain = null;
    this.sink = null;
    this.phase = HEAD;
    this.lastActiveAt = clock.now;
    this.headBytes = NO_BYTES;
    if (this.input === null) this.idleDown();
    if (!this.keepAlive) this.close();
  }

  /** Between requests: give the pooled parts back. */
  private idleDown(): void {
    const { heads, forwards } = this.context.spares;
    const parsed = this.parsed;
    if (parsed !== null && heads.length < SPARES) {
      parsed.reset();
      heads.push(parsed);
    }
    this.parsed = null;
    if (this.forward !== null && forwards.length < SPARES) forwards.push(this.forward);
    this.forward = null;
  }

  /** Proxy state for this request: this connection's, a spare one, or none yet. */
  takeForward(): Forward | null {
    this.forward ??= this.context.spares.forwards.pop() ?? null;
    return this.forward;
  }

  /** A request that cannot be served: answer with `status` and close. */
  private reject(status: number, reason: string): void {
    this.keepAlive = false;
    this.phase = ACTIVE;
    this.responseDone = true;
    this.body.start(BodyKind.None);
    this.write(
      simpleResponse(
        status,
        [["Content-Type", "text/plain; charset=utf-8"]],
        `${reason}\n`,
        false,
        false,
      ),
    );
    this.close();
  }

  private pauseReading(): void {
    if (this.readingPaused) return;
    this.readingPaused = true;
    this.socket.pause();
  }

  private resumeReading(): void {
    if (!this.readingPaused || this.phase === CLOSED) return;
    this.readingPaused = false;
    this.socket.resume();
  }

  private write(bytes: Uint8Array, transient = false): boolean {
    this.answered = true;
    if (this.stats) this.stats.bytes_sent += bytes.length;
    return this.out.write(bytes, transient);
  }

  // --- Exchange: what actions call -------------------------------------------

  setDeadline(seconds: number, then: () => void): void {
    this.deadlineAt = clock.now + seconds * 1000;
    this.deadlineHandler = then;
  }

  clearDeadline(): void {
    this.deadlineAt = 0;
    this.deadlineHandler = null;
  }

  /** Called by the sweep once `deadlineAt` has passed. */
  fireDeadline(): void {
    const then = this.deadlineHandler;
    this.clearDeadline();
    then?.();
  }

  respond(response: Uint8Array): void {
    if (this.phase !== ACTIVE) return;
    this.write(response);
    this.responseDone = true;
    this.sink = dropBody;
    this.pump();
  }

  hold(): void {
    this.held = true;
    this.pauseReading();
  }

  release(): void {
    this.held = false;
  }

  streamBody(sink: BodySink): void {
    this.sink = sink;
    this.pump();
  }

  takeWholeBody(max: number): Buffer | null {
    const input = this.input;
    const length = this.body.lengthLeft;
    if (input === null || length <= 0 || length > max || input.length < length) return null;
    this.body.take(input, 0, length);
    this.input = input.length === length ? null : input.subarray(length);
    if (this.stats) this.stats.bytes_received += length;
    return input.subarray(0, length);
  }

  sinkResumed(): void {
    this.sinkBlocked = false;
    this.pump();
  }

  send(bytes: Uint8Array, transient = false): boolean {
    if (this.phase === CLOSED) return false;
    return this.write(bytes, transient);
  }

  finish(reusable: boolean): void {
    if (this.phase !== ACTIVE) return;
    if (!reusable) this.keepAlive = false;
    this.responseDone = true;
    // A request body the backend did not wait for is dropped, as a static answer's is.
    if (!this.body.done && this.sink !== dropBody) {
      this.sink = dropBody;
      this.sinkBlocked = false;
    }
    this.pump();
  }

  abort(): void {
    if (this.phase === CLOSED) return;
    this.keepAlive = false;
    this.input = null;
    this.socket.end();
  }

  upgrade(fromClient: (bytes: Buffer) => boolean): void {
    this.phase = UPGRADED;
    this.upgradeSink = fromClient;
    const pending = this.input;
    this.input = null;
    if (pending !== null && !fromClient(pending)) this.pauseReading();
    else this.resumeReading();
    if (this.clientEnded) this.onEnd?.();
  }

  /** For a tunnel: the backend took what it was given, read from the client again. */
  resumeTunnel(): void {
    if (this.phase === UPGRADED) this.resumeReading();
  }
}
