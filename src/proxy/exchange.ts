/**
 * What an action sees of one request: its parsed head, where it came from, and
 * the ways to answer it. A `Transaction` implements it; actions never see the
 * connection behind it.
 */
import type { BackendState } from "../backend/state.ts";
import type { RequestHead } from "../http/request-head.ts";
import type { Protocol } from "../rules/table.ts";
import type { HostStats } from "../stats/host-stats.ts";

/** Receives request body bytes; returns false when it cannot take more for now. */
export type BodySink = (bytes: Buffer, last: boolean) => boolean;

/**
 * What the action that took a request hears of its client side. Set once per
 * request with `Exchange.listen`; the transaction forgets it when the request ends.
 */
export interface ExchangeListener {
  /** The request is given up (client gone, deadline passed, broken body): let go of all it holds. */
  abandoned(): void;
  /** The client's socket took what waited after a false `send`: send more. */
  writable?(): void;
  /** In a tunnel: the client half-closed its side. */
  clientEnded?(): void;
}

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
  /** The connection can carry another request after this one's answer. */
  readonly keepAlive: boolean;
  readonly isHeadRequest: boolean;
  /** The counters of the rule that matched, or null (unknown host, no rules). */
  stats: HostStats | null;
  /** The key of the rule that matched, or null. */
  ruleKey: string | null;
  /** Backend connection attempts made for it (for metrics and the log). */
  attempts: number;
  /** Whether the client has gone away (a held request then has no one to answer). */
  readonly closed: boolean;

  /** The one listener of this request's client-side events; a second call replaces it. */
  listen(listener: ExchangeListener): void;
  /** Runs `then` once `seconds` have passed, unless cleared or set again first. */
  setDeadline(seconds: number, then: () => void): void;
  clearDeadline(): void;
  /** The `X-Forwarded-*` lines this request carries to a backend (kept per client). */
  forwardingLines(): string;

  /**
   * What a backend answered: its final status, the backend, the attempts it
   * took and the milliseconds to its response head (for metrics and the log).
   */
  noteResponse(status: number, backend: BackendState, attempts: number, headMs: number): void;

  /** Sends a whole response; the request's body, if any, is read and dropped. */
  respond(response: Uint8Array): void;
  /** Stops reading from the client until `release`; the request stays as it was. */
  hold(): void;
  release(): void;

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
   * Part of a streamed response; false when the client's socket is full (the
   * listener's `writable` follows). `transient` bytes may be reused once this returns.
   */
  send(bytes: Uint8Array, transient?: boolean): boolean;
  /** The streamed response is complete; `reusable` false closes the client connection after it. */
  finish(reusable: boolean): void;
  /** Something broke mid-response: close the client connection without pretending it finished. */
  abort(): void;
  /** Closes the client connection once what was sent has been written. */
  end(): void;
  /** The response was 101 (or a CONNECT's 2xx): from now on client bytes go to `fromClient`. */
  upgrade(fromClient: (bytes: Buffer) => boolean): void;
  /** In a tunnel: the backend can take bytes again, so read from the client again. */
  resumeTunnel(): void;
}
