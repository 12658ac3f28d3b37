/**
 * The state file: `{"hosts": {...}, "stats": {...}}`, the original Mantrid's
 * format (with `"backends"` once one is drained or disabled), as a snapshot (`snapshot.ts`) continued by a change log
 * (`log-format.ts`). What loading it yields, and the error for a file that
 * cannot be used.
 */
import type { StoredAdmin } from "../backend/admin.ts";
import type { RuleSet } from "../rules/schema.ts";
import type { StatsRecord } from "../stats/host-stats.ts";

export interface LoadedState {
  hosts: RuleSet;
  stats: Record<string, Partial<StatsRecord>>;
  /** Backends an operator drained or disabled, by `host:port`. */
  backends: Record<string, StoredAdmin>;
  /** True when no file existed yet. */
  fresh: boolean;
}

/** A state file that cannot be used; start-up stops rather than overwrite it. */
export class StateFileError extends Error {}
