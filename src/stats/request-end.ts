/**
 * What is known of a request when it ends, for whoever counts or logs it
 * (metrics, rates, the access log). The transaction is the view: observers
 * read it during the call and keep nothing of it afterwards.
 */
import type { BackendState } from "../backend/state.ts";
import type { HostStats } from "./host-stats.ts";

export interface RequestEnd {
  /** `performance.now()` when its head was parsed, and when it ended. */
  readonly startedAt: number;
  readonly endedAt: number;
  /** The final status sent, or 0 when none was (the client left, a cut response). */
  readonly status: number;
  /** The whole answer went out. */
  readonly completed: boolean;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** The counters of the rule that matched (its key is where they are filed), or null. */
  readonly stats: HostStats | null;
  readonly ruleKey: string | null;
  readonly host: string;
  readonly method: string;
  /** The backend that answered, or null when none did. */
  readonly backend: BackendState | null;
  /** Connection attempts to backends (0 when not proxied). */
  readonly attempts: number;
  /** Milliseconds from sending the request to the backend to its response head; -1 when none. */
  readonly headMs: number;
  /** Milliseconds the request was held (spin, a backend queue, all backends down). */
  readonly heldMs: number;
  /** The request target, as sent. */
  target(): string;
  readonly clientAddress: string;
}

export interface RequestObserver {
  requestEnded(request: RequestEnd): void;
}
