/**
 * The body of the request under way on a client connection: where it ends (by
 * its framing), who takes its bytes (an action's sink, or nobody: dropped),
 * and whether that taker is full. Bytes are counted and handed on, never copied.
 */
import { BodyFramer } from "../http/body-framer.ts";
import type { RequestHead } from "../http/request-head.ts";
import { BodyKind } from "../http/response-head.ts";
import type { BodySink } from "./exchange.ts";

/**
 * The rest of a request body that nobody reads is dropped so the connection can
 * be kept, when it is this small; a larger rest closes the connection instead.
 */
export const DROPPABLE_BODY = 64 * 1024;

/** `feed`'s answer when the chunked framing is broken. */
export const BROKEN = -1;

export class RequestBody {
  private readonly framer = new BodyFramer();
  private sink: BodySink | null = null;
  /** The sink said it cannot take more; `resume` when it can. */
  private blocked = false;
  /** Some byte of the body has arrived. */
  seen = false;
  /** Bytes dropped since nobody takes them. */
  dropped = 0;
  private readonly drop: BodySink = (bytes) => {
    this.dropped += bytes.length;
    return true;
  };

  /** A new request: a body by its framing (RFC 9112 §6.3: neither header means none). */
  start(head: RequestHead): void {
    if (head.chunked) this.framer.start(BodyKind.Chunked);
    else this.framer.start(BodyKind.Length, Math.max(0, head.contentLength));
    this.sink = null;
    this.blocked = false;
    this.seen = false;
    this.dropped = 0;
  }

  /** No (more) body: the request was refused or its framing broke. */
  none(): void {
    this.framer.start(BodyKind.None);
    this.sink = null;
  }

  get done(): boolean {
    return this.framer.done;
  }

  /** Bytes still to come of a body framed by a length; -1 when chunked. */
  get lengthLeft(): number {
    return this.framer.lengthLeft;
  }

  /** Someone takes the bytes now (not nobody yet, and not full). */
  get flowing(): boolean {
    return this.sink !== null && !this.blocked;
  }

  get dropping(): boolean {
    return this.sink === this.drop;
  }

  streamTo(sink: BodySink): void {
    this.sink = sink;
  }

  /** Nobody will read the rest: it is dropped as it comes. */
  dropRest(): void {
    this.sink = this.drop;
    this.blocked = false;
  }

  resume(): void {
    this.blocked = false;
  }

  /**
   * Hands the part of `input` that belongs to the body to the sink: how many
   * bytes that was, or BROKEN.
   */
  feed(input: Buffer): number {
    const taken = this.framer.take(input, 0, input.length);
    if (taken < 0) return BROKEN;
    if (taken > 0) this.seen = true;
    const part = taken === input.length ? input : input.subarray(0, taken);
    if (!this.sink!(part, this.framer.done)) this.blocked = true;
    return taken;
  }

  /** The whole rest of a length-framed body, if all of it is in `input` and at most `max` bytes: taken. */
  takeWhole(input: Buffer, max: number): number {
    const length = this.framer.lengthLeft;
    if (length <= 0 || length > max || input.length < length) return 0;
    this.framer.take(input, 0, length);
    this.seen = true;
    return length;
  }
}
