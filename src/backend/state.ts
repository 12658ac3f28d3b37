/**
 * What Mantrid knows of one backend address, shared by every rule that names
 * it: whether it is healthy (checks, passive ejection), whether an operator
 * drains or disables it, and how many requests it carries now. The request
 * path only reads `usable` and moves `active`; everything else changes here.
 */
import { log } from "../log.ts";

export type Health = "up" | "down";
/** What an operator said: `draining` takes no new requests, `disabled` none at all. */
export type AdminState = "enabled" | "draining" | "disabled";

/** The last active check's outcome. */
export interface CheckResult {
  ok: boolean;
  /** The status answered, or 0 when there was none (refused, timed out, broken). */
  status: number;
  /** How long it took, in milliseconds. */
  ms: number;
  /** When it ended (milliseconds since the epoch). */
  at: number;
  /** Why it failed, in words; absent when it did not. */
  error?: string;
}

export class BackendState {
  health: Health = "up";
  admin: AdminState = "enabled";
  /** Healthy and enabled: new requests may go here. Kept as a field so the request path reads one boolean. */
  usable = true;
  /** When `health` or `admin` last changed (milliseconds since the epoch). */
  since = Date.now();
  /** Requests in flight and upgraded connections. */
  active = 0;
  /** Requests sent here since start. */
  requests = 0;
  /** Failed attempts here since start: refused, reset before a head, a listed status. */
  failures = 0;
  /** Connects refused, failed or timed out since start (part of `failures`). */
  connectFailures = 0;
  /** Its counters for `GET /metrics` (stats/metrics/layout.ts), made on its first answer. */
  metrics: Float64Array | null = null;
  check: CheckResult | null = null;
  /** Passive ejection: when the backend may come back without a check (0: not ejected). */
  ejectedUntil = 0;
  /** Recent failures from real traffic, for passive ejection (times in ms, oldest first). */
  readonly recentFailures: number[] = [];
  /** Why the last connect failed ("refused", "timed out"...), logged once; null once one succeeds. */
  connectProblem: string | null = null;

  constructor(readonly key: string) {}

  /** What `GET /backend/` says: an operator's drain or disable before health. */
  get stateName(): "up" | "down" | "draining" | "disabled" {
    return this.admin === "enabled" ? this.health : this.admin;
  }
}

export type StateListener = (state: BackendState) => void;

/** Every backend address of a data plane, made on first mention. */
export class BackendStates {
  private readonly byKey = new Map<string, BackendState>();
  private readonly listeners = new Set<StateListener>();

  get(key: string): BackendState {
    let state = this.byKey.get(key);
    if (state === undefined) {
      state = new BackendState(key);
      this.byKey.set(key, state);
    }
    return state;
  }

  find(key: string): BackendState | undefined {
    return this.byKey.get(key);
  }

  all(): IterableIterator<BackendState> {
    return this.byKey.values();
  }

  /** Called after each change of health or admin state; returns an unsubscribe. */
  onChange(listener: StateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setHealth(state: BackendState, health: Health, why: string): void {
    if (state.health === health) return;
    state.health = health;
    log.info(`backend ${state.key} is ${health}: ${why}`);
    this.changed(state);
  }

  setAdmin(state: BackendState, admin: AdminState): void {
    if (state.admin === admin) return;
    state.admin = admin;
    const inFlight = admin === "enabled" ? "" : ` (${state.active} in flight)`;
    log.info(`backend ${state.key} is ${admin}${inFlight}`);
    this.changed(state);
  }

  /** A connect failed: logged when the reason is new, not for every request. */
  connectFailed(state: BackendState, why: string): void {
    state.connectFailures++;
    if (state.connectProblem === why) return;
    state.connectProblem = why;
    const what =
      why === "refused"
        ? "refuses connections"
        : why === "timed out"
          ? "does not accept connections within connect_timeout"
          : `cannot be connected to (${why})`;
    log.warn(`backend ${state.key} ${what}`);
  }

  /** A connect succeeded: said once after failures. */
  connected(state: BackendState): void {
    if (state.connectProblem === null) return;
    state.connectProblem = null;
    log.info(`backend ${state.key} accepts connections again`);
  }

  private changed(state: BackendState): void {
    state.usable = state.health === "up" && state.admin === "enabled";
    state.since = Date.now();
    for (const listener of [...this.listeners]) listener(state);
  }
}
