/** Whether etcd answers, since when, and the revision the table is at: `GET /health`. */

export interface StoreHealth {
  store: "file" | "etcd";
  state: "ok" | "unreachable";
  /** When the state last changed (ISO time); absent for the file store. */
  since?: string;
  /** The etcd revision the served table is at; 0 until read from etcd since start. */
  revision?: number;
}

export const FILE_STORE_HEALTH: StoreHealth = { store: "file", state: "ok" };

export class Reachability {
  private state: "ok" | "unreachable" = "unreachable";
  private since = new Date();
  private readonly listeners = new Set<() => void>();

  constructor(private readonly revision: () => number) {}

  get ok(): boolean {
    return this.state === "ok";
  }

  up(): void {
    this.move("ok");
  }

  down(): void {
    this.move("unreachable");
  }

  /** Called on each change of state. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  report(): StoreHealth {
    return {
      store: "etcd",
      state: this.state,
      since: this.since.toISOString(),
      revision: this.revision(),
    };
  }

  private move(state: "ok" | "unreachable"): void {
    if (this.state === state) return;
    this.state = state;
    this.since = new Date();
    for (const listener of this.listeners) listener();
  }
}
