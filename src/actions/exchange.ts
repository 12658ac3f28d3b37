/**
 * What an action sees of one request: its parsed head, where it came from,
 * and the ways to answer it. The client connection implements it.
 */
import type { RequestHead } from "../http/request-head.ts";
import type { Forward } from "../proxy/forward.ts";
import type { Protocol } from "../rules/table.ts";
import type { HostStats } from "../stats/host-stats.ts";

/** Receives request body bytes; returns false when it cannot take more for now. */
export type BodySink = (bytes: Buffer, last: boolean) => boolean;

export interface Exchange {
  readonly head: RequestHead;
  /** The request head exactly as received; `head`'s offsets point into it. */
  readonly headBytes: Buffer;
  /** Canonical hostname: lower-case, without port or trailing dot. */
  readonly host: string;
  readonly protocol: Protocol;
  /** True on a `bind_internal` listener, whose forwarding headers are trusted. */
  readonly internal: boolean;
  readonly clientAddress: string;
  /** The client wants to keep the connection after this response. */
  readonly keepAlive: boolean;
  readonly isHeadRequest: boolean;
  /** The counters of the rule that matched, or null (unknown host, no rules). */
  stats: HostStats | null;

  /** The proxy's per-request state, kept on the connection and reused for its next requests. */
  forward: Forward | null;
  /** A Forward to reuse for this request, if one is at hand. */
  takeForward(): Forward | null;
  /** Runs `then` once `seconds` have passed, unless cleared or set again first. */
  setDeadline(seconds: number, then: () => void): void;
  clearDeadline(): void;

  /** Sends a whole response; the request's body, if any, is read and dropped. */
  respond(response: Uint8Array): void;

  /** Stops reading from the client until `release`; the request stays as it was. */
  hold(): void;
  release(): void;
  /** Whether the client has gone away (a held request then has no one to answer). */
  readonly closed: boolean;
  /** Called once when the client connection closes while the exchange is open. */
  onClose: (() => void) | null;

  /** Streams the request body into `sink`; `sinkResumed` must be called after a false return. */
  streamBody(sink: BodySink): void;
  sinkResumed(): void;
  readonly bodyDone: boolean;
  /**
   * The whole request body, when it has a length of at most `max` bytes and
   * has already arrived: taken, so it can leave with the head in one write.
   * Null otherwise; the body is then streamed.
   */
  takeWholeBody(max: number): Buffer | null;

  /**
   * Part of a streamed response; false when the client's socket is full (wait
   * for onDrain). `transient` bytes may be reused once this returns.
   */
  send(bytes: Uint8Array, transient?: boolean): boolean;
  onDrain: (() => void) | null;
  /** The streamed response is complete; `reusable` false closes the client connection after it. */
  finish(reusable: boolean): void;
  /** Something broke mid-response: close the client connection without pretending it finished. */
  abort(): void;
  /** Closes the client connection once what was sent has been written. */
  end(): void;
  /** The response was 101: from now on bytes from the client go to `fromClient` as they come. */
  upgrade(fromClient: (bytes: Buffer) => boolean): void;
  /** In a tunnel: the backend can take bytes again, so read from the client again. */
  resumeTunnel(): void;
  /** In a tunnel: the client half-closed its side. */
  onEnd: (() => void) | null;
}
