/** What every connection of a listener shares: routing, limits, deadlines, spares. */
import type { HeadLimits } from "../http/limits.ts";
import type { RequestObserver } from "../stats/request-end.ts";
import type { Exchange } from "./exchange.ts";
import type { Spares } from "./spares.ts";

/** What the data plane asks of an open client connection (the sweep, a shutdown). */
export interface OpenConnection {
  /** Between requests, with nothing left to write. */
  readonly idle: boolean;
  /** Not a byte received yet: its client has just connected, a first request on the way. */
  readonly fresh?: boolean;
  /** Ends the current phase if it has waited past its limit. */
  expire(now: number): void;
  /** Closes once what is queued has been written. */
  close(): void;
  /** Closes now. */
  abort(): void;
}

/** Picks the action for a request and runs it (the rule table's router). */
export interface RequestRouter {
  dispatch(exchange: Exchange): void;
}

export interface ListenerContext {
  /** A `bind_internal` listener: forwarding headers from the client are trusted. */
  readonly internal: boolean;
  /** A `bind_tls` listener: every request on it is https. */
  readonly tls: boolean;
  readonly router: RequestRouter;
  readonly limits: HeadLimits;
  readonly connections: Set<OpenConnection>;
  /** Beyond this many open client connections, new ones get a fast 503. */
  readonly maxConnections: number;
  readonly spares: Spares;
  readonly timeouts: ConnectionTimeouts;
  /** Told of each request as it ends, or null. */
  readonly observer: RequestObserver | null;
}

/** How long each phase of a client connection may wait, in milliseconds. */
export interface ConnectionTimeouts {
  /** For the whole request head. */
  readonly head: number;
  /** For the next byte of a request body that something reads. */
  readonly body: number;
  /** For the client to take the next byte of a response. */
  readonly send: number;
  /** Between requests. */
  readonly idle: number;
  /** Reading and dropping after an answer that left part of the request unread. */
  readonly linger: number;
}
