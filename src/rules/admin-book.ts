/**
 * Operators' backend states (drained, disabled), kept by the rule registry
 * beside the rules: they go through the same save queue, so a drain is on
 * disk, and in every worker, before the API answers, and it survives restarts.
 * Only addresses that are not enabled are listed.
 */
import type { StoredAdmin } from "../backend/admin.ts";
import type { AdminState } from "../backend/state.ts";

/** The registry's link to backend states: the stored ones, and where a change takes effect. */
export interface BackendAdmin {
  /** The states in the state file at start-up. */
  readonly initial: Readonly<Record<string, StoredAdmin>>;
  /**
   * Makes a state take effect where requests are served in this process: at
   * start-up for each stored one, then for each change once it is durable
   * (workers get theirs through the registry's `publish`).
   */
  apply?(key: string, admin: AdminState): void;
}

export const NO_BACKEND_ADMIN: BackendAdmin = { initial: {} };

export interface AdminChange {
  kind: "backend";
  /** `host:port`, as rules name it. */
  key: string;
  admin: AdminState;
}

export class AdminBook {
  /** With the changes still waiting for their write: what the API answers from. */
  private readonly latest: Map<string, StoredAdmin>;
  /** What the state file holds. */
  private readonly durable: Map<string, StoredAdmin>;

  constructor(private readonly admin: BackendAdmin) {
    this.latest = new Map(Object.entries(admin.initial));
    this.durable = new Map(this.latest);
    for (const [key, state] of this.latest) admin.apply?.(key, state);
  }

  get(key: string): AdminState {
    return this.latest.get(key) ?? "enabled";
  }

  all(): Record<string, StoredAdmin> {
    return Object.fromEntries(this.latest);
  }

  /** Records a change not yet durable; returns what takes it back. */
  set(key: string, admin: AdminState): () => void {
    const before = this.latest.get(key);
    put(this.latest, key, admin);
    return () => put(this.latest, key, before ?? "enabled");
  }

  /** The durable states once `changes` are written too. */
  after(changes: readonly { kind: string }[]): Record<string, StoredAdmin> {
    const states = new Map(this.durable);
    for (const change of changes) {
      if (change.kind === "backend") {
        const { key, admin } = change as AdminChange;
        put(states, key, admin);
      }
    }
    return Object.fromEntries(states);
  }

  /** A change is durable (and published): it takes effect. */
  commit(change: AdminChange): void {
    put(this.durable, change.key, change.admin);
    this.admin.apply?.(change.key, change.admin);
  }
}

function put(states: Map<string, StoredAdmin>, key: string, admin: AdminState): void {
  if (admin === "enabled") states.delete(key);
  else states.set(key, admin);
}
