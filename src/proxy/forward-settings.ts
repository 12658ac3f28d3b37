/** What every forward of a data plane shares. */
import type { BackendPool } from "../backend/pool.ts";
import type { BackendStates } from "../backend/state.ts";
import type { BackendWaits } from "../backend/waits.ts";
import type { HeadLimits } from "../http/limits.ts";
import type { Page } from "../static/pages.ts";

export interface ForwardSettings {
  readonly pool: BackendPool;
  /** What is known of each backend address, shared by every rule. */
  readonly states: BackendStates;
  /** Requests waiting for a backend (queued, or held while all are down). */
  readonly waits: BackendWaits;
  /** Seconds to open a backend connection. */
  readonly connectTimeout: number;
  /** Seconds to wait for a response head once the request is sent. */
  readonly backendTimeout: number;
  readonly timeoutPage: Page;
  /** Limits on response heads. */
  readonly limits: HeadLimits;
}

/** Who starts forwards (of type F) and takes them back for reuse once they are done. */
export interface ForwardOwner<F> {
  readonly settings: ForwardSettings;
  /** A forward that is done: nothing refers to it any more. */
  release(forward: F): void;
}
