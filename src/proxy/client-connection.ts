/**
 * One client connection: a small state machine.
 *
 *   HEAD ──parse──▶ ACTIVE ──request body done and response done──▶ HEAD (keep-alive)
 *    │                 │  └──answered, body left unread, or an error──▶ LINGER ──▶ closed
 *    └──bad head──▶ LINGER                                           └─▶ closed
 *                      └──101 from the backend──▶ UPGRADED (raw two-way pipe)
 *
 * Every phase ends by itself: the sweep calls `expire` with the time, and the
 * head, body, send, idle and linger limits each close what has waited too long.
 *
 * Why this file is long: it is one state machine, and its phases share the
 * connection's buffers and flags; split, one set of invariants would be spread
 * over several files. The request's own record is the Transaction, its body
 * the RequestBody.
 *
 * Each request is parsed and routed on its own, and only one is active at a
 * time: bytes of pipelined requests wait, unparsed, until the response before
 * them is complete, so responses leave in order and never interleave. Whenever
 * nothing can take the bytes coming in (a held request, a full backend, a full
 * client socket), reading stops until they can move again.
 */
import { errorReason, errorStatus, NEED_MORE, parseRequestHead } from "../http/request-head.ts";
import { errorResponse } from "../http/response-writer.ts";
import { log } from "../log.ts";
import { authorityHost, canonicalHost } from "../rules/host.ts";
import type { RequestObserver } from "../stats/request-end.ts";
import { plainAddress } from "./client-address.ts";
import type { ClientSide } from "./client-side.ts";
import type { ClientSocket } from "./client-socket.ts";
import { clock } from "./clock.ts";
import type { BodySink } from "./exchange.ts";
import type { ListenerContext } from "./listener-context.ts";
import { BROKEN, DROPPABLE_BODY, RequestBody } from "./request-body.ts";
import { SPARES } from "./spares.ts";
import { Transaction } from "./transaction.ts";
import { WriteQueue } from "./write-queue.ts";

const HEAD = 0;
const ACTIVE = 1;
const UPGRADED = 2;
/** Answered; the write side is shut once the answer has left, the rest of the request is dropped. */
const LINGER = 3;
const CLOSED = 4;

export class ClientConnection implements ClientSide {
  /** The request under way, or the one whose head is arriving; from the spares (see `idleDown`). */
  private current: Transaction | null = null;
  /** The client asked to keep the connection, and nothing has ruled it out since. */
  private persist = true;
  /** When a partial head first arrived (0: none pending); read by the timeout sweep. */
  headStartedAt = 0;
  lastActiveAt = clock.now;

  private phase = HEAD;
  private input: Buffer | null = null;
  private readonly out: WriteQueue;
  private held = false;
  private readonly body = new RequestBody();
  private responseDone = false;
  /** Some byte of a response to the current request has been written. */
  private answered = false;
  private clientEnded = false;
  /** When lingering (or dropping an answered request's body) began; 0: not. */
  private lingerFrom = 0;
  private readingPaused = false;
  private pumping = false;
  private heard = false;
  private upgradeSink: ((bytes: Buffer) => boolean) | null = null;

  constructor(
    readonly socket: ClientSocket,
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

  private get transaction(): Transaction {
    this.current ??= this.context.spares.transactions.pop() ?? new Transaction();
    return this.current;
  }

  get bodyDone(): boolean {
    return this.body.done;
  }

  get internal(): boolean {
    return this.context.internal;
  }

  get observer(): RequestObserver | null {
    return this.context.observer;
  }

  get closed(): boolean {
    return this.phase === CLOSED;
  }

  get fresh(): boolean {
    return !this.heard;
  }

  /** Idle between requests: no partial head, no request, nothing left to write. */
  get idle(): boolean {
    return this.phase === HEAD && this.input === null && this.out.empty;
  }

  /**
   * Whether the connection can carry another request after this one: the
   * client wants it, and a body nobody reads is small enough to drop. A client
   * that sent `Expect: 100-continue` and no byte of its body waits for a
   * `100 Continue` that an early answer never sends (RFC 9110 §10.1.1): such a
   * connection closes after the answer.
   */
  get keepAlive(): boolean {
    if (!this.persist) return false;
    const body = this.body;
    if (body.done) return true;
    if (this.current?.head.expectContinue && !body.seen && this.input === null) return false;
    // A chunked rest is dropped while it stays within the same bound.
    const left = body.lengthLeft;
    return left <= DROPPABLE_BODY;
  }

  // --- socket events -------------------------------------------------------

  onData(chunk: Buffer): void {
    this.lastActiveAt = clock.now;
    this.heard = true;
    if (this.phase === UPGRADED) {
      this.current!.received(chunk.length);
      if (!this.upgradeSink!(chunk)) this.pauseReading();
      return;
    }
    if (this.phase >= LINGER) return;
    this.input = this.input === null ? chunk : Buffer.concat([this.input, chunk]);
    this.pump();
  }

  onWritable(): void {
    if (!this.out.flush()) return;
    if (this.phase === LINGER) {
      // The answer has left: the linger time counts from now.
      this.lingerFrom = clock.now;
      return;
    }
    if (this.out.closing) return;
    this.current?.clientWritable();
    this.pump();
  }

  onPeerEnd(): void {
    this.clientEnded = true;
    if (this.phase === UPGRADED) this.current!.clientEnded();
    else if (this.phase === LINGER) this.out.end();
    else this.pump();
  }

  onClosed(): void {
    if (this.phase === CLOSED) return;
    const wasIdle = this.phase === HEAD && this.input === null;
    this.phase = CLOSED;
    this.input = null;
    this.context.connections.delete(this);
    this.current?.abandon();
    // A request whose whole answer was written counts as completed, whatever its body did.
    this.current?.countEnd(this.responseDone);
    // Only parts no request still holds go back to the pool.
    if (wasIdle) this.idleDown();
  }

  end(): void {
    this.close();
  }

  /** Closes the connection after what is queued has been written. */
  close(): void {
    if (this.phase === CLOSED) return;
    this.input = null;
    this.out.end();
  }

  /** Called by the sweep: ends the current phase if it has waited past its limit. */
  expire(now: number): void {
    this.current?.expire(now);
    const limits = this.context.timeouts;
    const stalled = this.out.stalledSince;
    if (stalled !== 0 && now - stalled > limits.send) return this.sendTimedOut();
    switch (this.phase) {
      case HEAD:
        if (this.headStartedAt !== 0) {
          if (now - this.headStartedAt > limits.head) this.headTimedOut();
        } else if (this.idle && now - this.lastActiveAt > limits.idle) this.close();
        return;
      case ACTIVE:
        if (this.lingerFrom !== 0) {
          // The rest of an answered request's body did not come in time.
          if (now - this.lingerFrom > limits.linger) this.close();
        } else if (this.awaitingBody && now - this.lastActiveAt > limits.body) {
          this.bodyTimedOut();
        }
        return;
      case LINGER:
        if (this.out.empty && now - this.lingerFrom > limits.linger) this.socket.end();
        return;
    }
  }

  /** Reading is on for a body byte that something will take; none came lately. */
  private get awaitingBody(): boolean {
    return (
      !this.body.done &&
      this.input === null &&
      this.body.flowing &&
      !this.held &&
      !this.readingPaused
    );
  }

  private headTimedOut(): void {
    this.headStartedAt = 0;
    this.reject(408, "request head not received in time");
  }

  private bodyTimedOut(): void {
    log.debug(`client ${this.clientAddress}: no request body byte in time`);
    // With part of a response out, a 408 cannot follow: just close.
    if (this.answered) this.abortRequest();
    else this.reject(408, "request body not received in time");
  }

  /** The client took no byte of its response for `send_timeout`. */
  private sendTimedOut(): void {
    log.debug(`client ${this.clientAddress}: took no response byte in time`);
    this.current?.abandon();
    this.current?.countEnd(false);
    this.input = null;
    this.socket.terminate();
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
        const head = this.transaction.head;
        const result = parseRequestHead(input, 0, input.length, head, this.context.limits);
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
        if (this.responseDone && this.lingerFrom === 0) {
          // Answered before the body was read: drop a small rest, else close.
          if (!this.keepAlive) return this.closeLingering();
          this.lingerFrom = clock.now;
        }
        if (!this.body.flowing || this.held) {
          if (this.input !== null || this.held) this.pauseReading();
          else if (this.clientEnded) this.clientLeftMidBody();
          return;
        }
        if (this.input === null) {
          if (this.clientEnded) return this.clientLeftMidBody();
          return this.resumeReading();
        }
        if (!this.feedBody()) return;
        if (this.body.dropped > DROPPABLE_BODY) return this.closeLingering();
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
    const transaction = this.transaction;
    const head = transaction.head;
    // Most reads hold exactly one head: keep the buffer itself, no view to make.
    let headBytes = input;
    if (headLength === input.length) this.input = null;
    else {
      headBytes = input.subarray(0, headLength);
      this.input = input.subarray(headLength);
    }
    const host = canonicalHost(head.host);
    const context = this.context;
    const https =
      context.tls ||
      (context.internal && (head.xForwarded === "https" || head.xForwarded === "ssl"));
    transaction.begin(this, headBytes, host, https ? "https" : "http");
    this.headStartedAt = 0;
    this.phase = ACTIVE;
    this.persist = head.keepAlive;
    this.body.start(head);
    this.responseDone = false;
    this.answered = false;
    const first = headBytes[head.targetStart];
    const absoluteForm = first !== 0x2f && first !== 0x2a && head.method !== "CONNECT";
    // RFC 9112 §3.2.2: a backend would follow the target's authority; routing follows Host.
    if (absoluteForm && authorityHost(head.target(headBytes)) !== host) {
      return this.reject(400, "Host does not match the authority of the request target");
    }
    this.context.router.dispatch(transaction);
    transaction.received(headLength);
  }

  /** Moves request body bytes from `input` to whoever takes them. False: stop stepping for now. */
  private feedBody(): boolean {
    const input = this.input!;
    const taken = this.body.feed(input);
    if (taken === BROKEN) {
      this.bodyBroken();
      return false;
    }
    this.input = taken === input.length ? null : input.subarray(taken);
    this.current!.received(taken);
    return true;
  }

  /**
   * The client broke its body's chunked framing. Whatever was forwarded is
   * abandoned (the action lets go of its backend connection); the client gets
   * a 400 if no byte of a response has left yet, else just the close.
   */
  private bodyBroken(): void {
    this.body.none();
    if (this.answered) this.abortRequest();
    else this.reject(400, "malformed chunked body");
  }

  /** The client sent its FIN before the end of its body: the request can never complete. */
  private clientLeftMidBody(): void {
    if (this.responseDone) this.close();
    else this.abortRequest();
  }

  /** Gives up on the request under way and closes the connection. */
  private abortRequest(): void {
    const transaction = this.current!;
    transaction.abandon();
    transaction.countEnd(false);
    this.abort();
  }

  private complete(): void {
    const transaction = this.current!;
    transaction.countEnd(true);
    transaction.reset();
    this.phase = HEAD;
    this.answered = false;
    this.lingerFrom = 0;
    this.lastActiveAt = clock.now;
    if (this.input === null) this.idleDown();
    if (!this.persist) this.close();
  }

  /** Between requests: the transaction goes back to the spares, its head cleared. */
  private idleDown(): void {
    const transaction = this.current;
    this.current = null;
    if (transaction === null) return;
    transaction.reset();
    const { transactions } = this.context.spares;
    if (transactions.length < SPARES) {
      transaction.head.reset();
      transactions.push(transaction);
    }
  }

  /** A request that cannot be served: answer with `status` (unless an answer began) and close. */
  private reject(status: number, reason: string): void {
    const transaction = this.transaction;
    transaction.abandon();
    this.persist = false;
    this.phase = ACTIVE;
    this.body.none();
    if (!this.answered) this.write(errorResponse(status, reason));
    this.responseDone = true;
    transaction.countEnd(false);
    this.closeLingering();
  }

  /**
   * Closes after an answer that left part of the request unread (nginx's
   * lingering close): the FIN goes once the answer has left, and what the
   * client still sends is read and dropped until it closes or `linger_timeout`
   * passes. Closing at once would make the kernel answer those bytes with a
   * reset, which can destroy the answer before the client reads it.
   */
  private closeLingering(): void {
    if (this.phase >= LINGER) return;
    this.current?.countEnd(this.responseDone);
    this.phase = LINGER;
    this.input = null;
    this.body.none();
    this.lingerFrom = clock.now;
    if (this.clientEnded) return this.out.end();
    this.out.shutdown();
    this.resumeReading();
  }

  private pauseReading(): void {
    if (this.readingPaused) return;
    this.readingPaused = true;
    this.socket.pause();
  }

  private resumeReading(): void {
    if (!this.readingPaused || this.phase === CLOSED) return;
    this.readingPaused = false;
    // Time spent paused is not the client's: the body and idle limits count from now.
    this.lastActiveAt = clock.now;
    this.socket.resume();
  }

  private write(bytes: Uint8Array, transient = false): boolean {
    this.answered = true;
    this.current?.sent(bytes.length);
    return this.out.write(bytes, transient);
  }

  // --- ClientSide: what the transaction passes on ---------------------------

  respond(response: Uint8Array): void {
    if (this.phase !== ACTIVE) return;
    // The answer was built with `keepAlive` as it is now: hold to it.
    if (!this.keepAlive) this.persist = false;
    this.write(response);
    this.responseDone = true;
    this.body.dropRest();
    this.pump();
  }

  hold(): void {
    this.held = true;
    this.pauseReading();
  }

  release(): void {
    this.held = false;
    this.lastActiveAt = clock.now;
  }

  streamBody(sink: BodySink): void {
    this.body.streamTo(sink);
    this.lastActiveAt = clock.now;
    this.pump();
  }

  takeWholeBody(max: number): Buffer | null {
    const input = this.input;
    const length = input === null ? 0 : this.body.takeWhole(input, max);
    if (length === 0) return null;
    this.input = input!.length === length ? null : input!.subarray(length);
    this.current!.received(length);
    return input!.subarray(0, length);
  }

  sinkResumed(): void {
    this.body.resume();
    this.lastActiveAt = clock.now;
    this.pump();
  }

  send(bytes: Uint8Array, transient: boolean): boolean {
    if (this.phase === CLOSED) return false;
    return this.write(bytes, transient);
  }

  finish(reusable: boolean): void {
    if (this.phase !== ACTIVE) return;
    if (!reusable) this.persist = false;
    this.responseDone = true;
    // A request body the backend did not wait for is dropped, as a static answer's is.
    if (!this.body.done && !this.body.dropping) this.body.dropRest();
    this.pump();
  }

  abort(): void {
    if (this.phase === CLOSED) return;
    this.persist = false;
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
    if (this.clientEnded) this.current!.clientEnded();
  }

  /** For a tunnel: the backend took what it was given, read from the client again. */
  resumeTunnel(): void {
    if (this.phase === UPGRADED) this.resumeReading();
  }
}
