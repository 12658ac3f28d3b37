/**
 * The response side of a forwarded request: parses the backend's response
 * head, passes interim responses on, rewrites the final head for the client
 * and streams the body by its framing, with the head and the first body bytes
 * in one write. Each call says what came of the bytes it was given; the
 * forward that owns the backend connection acts on it.
 */
import { BodyFramer } from "../http/body-framer.ts";
import type { HeadLimits } from "../http/limits.ts";
import { NEED_MORE } from "../http/request-head.ts";
import {
  BodyKind,
  parseResponseHead,
  ResponseHead,
  responseBodyKind,
} from "../http/response-head.ts";
import type { Exchange } from "./exchange.ts";
import { clientResponseHead, clientResponseHeadInPlace } from "./forward-head.ts";

/** The head is not complete yet. */
export const AWAITING_HEAD = 0;
/** Body bytes went on and the client took them all. */
export const FLOWING = 1;
/** Body bytes went on; the client's socket is full: stop reading from the backend. */
export const CLIENT_FULL = 2;
/** The response is whole, and nothing came after it. */
export const COMPLETE = 3;
/** The response is whole, but more bytes came behind it: the connection is not reusable. */
export const COMPLETE_WITH_EXTRA = 4;
/** A malformed head, or a 101 the client did not ask for: nothing has reached the client. */
export const BAD_HEAD = 5;
/** A malformed body after the head went out: the client connection must be cut. */
export const BAD_BODY = 6;
/** A 101 to an upgrade, or a 2xx to CONNECT: the head went out and bytes now flow raw. */
export const TUNNEL = 7;

/** Up to this many body bytes that arrive with a head are copied behind a rebuilt head. */
const INLINE_BODY = 16 * 1024;

export class Relay {
  private readonly response = new ResponseHead();
  private readonly body = new BodyFramer();
  private pending: Buffer | null = null;
  private streaming = false;
  /** Some byte of a response (an interim one too) has gone to the client. */
  started = false;
  /** The client connection may carry another request after this response. */
  clientKeepAlive = true;

  constructor(private readonly limits: HeadLimits) {}

  reset(): void {
    // A head left half-read by a backend that died must not carry its scan state over.
    this.response.reset();
    this.body.start(BodyKind.None);
    this.pending = null;
    this.streaming = false;
    this.started = false;
    this.clientKeepAlive = true;
  }

  /** The body runs until the backend closes (no length, not chunked). */
  get endsAtClose(): boolean {
    return this.body.kind === BodyKind.UntilClose;
  }

  /** The backend said it keeps the connection, and the framing lets it. */
  get backendReusable(): boolean {
    return this.response.keepAlive && this.body.kind !== BodyKind.UntilClose;
  }

  /** The final response's status (0 before its head). */
  get status(): number {
    return this.streaming ? this.response.status : 0;
  }

  get awaitingHead(): boolean {
    return !this.streaming;
  }

  /** Bytes from the backend, passed on to the client as far as they are a response. */
  receive(chunk: Buffer, exchange: Exchange): number {
    if (this.streaming) return this.forwardBody(chunk, exchange);
    let bytes = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    for (;;) {
      const response = this.response;
      const length = parseResponseHead(bytes, 0, bytes.length, response, this.limits);
      if (length === NEED_MORE) {
        this.pending = bytes;
        return AWAITING_HEAD;
      }
      this.pending = null;
      if (length < 0) return BAD_HEAD;
      const status = response.status;
      const upgrading = exchange.head.upgrade;
      if (status === 101) {
        if (!upgrading) return BAD_HEAD;
        return this.openTunnel(bytes, length, true, exchange);
      }
      // A CONNECT that the backend accepts becomes a tunnel too (RFC 9110 §9.3.6).
      if (exchange.head.method === "CONNECT" && status >= 200 && status < 300) {
        return this.openTunnel(bytes, length, false, exchange);
      }
      if (status >= 200) return this.startBody(bytes, length, exchange);
      // Interim responses (100 Continue, 103 Early Hints) pass through as they are.
      this.started = true;
      exchange.send(bytes.subarray(0, length));
      if (length === bytes.length) return AWAITING_HEAD;
      bytes = bytes.subarray(length);
    }
  }

  private startBody(bytes: Buffer, length: number, exchange: Exchange): number {
    this.started = true;
    this.streaming = true;
    const kind = responseBodyKind(this.response, exchange.head.method);
    this.body.start(kind, this.response.contentLength);
    const keepAlive = exchange.keepAlive && kind !== BodyKind.UntilClose;
    this.clientKeepAlive = keepAlive;
    const taken = this.body.take(bytes, length, bytes.length);
    if (taken < 0) return BAD_BODY;
    const flowing = this.sendHead(bytes, length, taken, keepAlive, exchange);
    if (this.body.done) return length + taken === bytes.length ? COMPLETE : COMPLETE_WITH_EXTRA;
    return flowing ? FLOWING : CLIENT_FULL;
  }

  /**
   * Sends the response head, rewritten, with the `taken` body bytes behind it.
   * Mostly the rewrite fits where the old head lay (hop-by-hop lines only
   * leave), and head and body go in one write, uncopied. Else a small body is
   * copied behind the new head, and a large one written from where it lies,
   * as copying it costs more than a second write.
   */
  private sendHead(
    bytes: Buffer,
    length: number,
    taken: number,
    keepAlive: boolean,
    exchange: Exchange,
  ): boolean {
    const http10 = exchange.head.minor === 0;
    const end = length + taken;
    const start = clientResponseHeadInPlace(bytes, this.response, keepAlive, http10);
    if (start >= 0) {
      return exchange.send(
        start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end),
      );
    }
    const inline = taken <= INLINE_BODY ? taken : 0;
    const head = clientResponseHead(
      bytes,
      this.response,
      keepAlive,
      http10,
      false,
      bytes,
      length,
      length + inline,
    );
    const flowing = exchange.send(head, true);
    if (inline === taken) return flowing;
    return exchange.send(bytes.subarray(length, end)) && flowing;
  }

  private forwardBody(bytes: Buffer, exchange: Exchange): number {
    const taken = this.body.take(bytes, 0, bytes.length);
    if (taken < 0) return BAD_BODY;
    const part = taken === bytes.length ? bytes : bytes.subarray(0, taken);
    const flowing = exchange.send(part);
    if (this.body.done) return taken === bytes.length ? COMPLETE : COMPLETE_WITH_EXTRA;
    return flowing ? FLOWING : CLIENT_FULL;
  }

  /** Sends the switching head; bytes the backend sent behind it already belong to the tunnel. */
  private openTunnel(
    bytes: Buffer,
    length: number,
    switching: boolean,
    exchange: Exchange,
  ): number {
    this.started = true;
    exchange.send(
      clientResponseHead(bytes, this.response, true, false, switching, bytes, length, bytes.length),
      true,
    );
    return TUNNEL;
  }
}
