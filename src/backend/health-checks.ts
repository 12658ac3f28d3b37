/**
 * The active checkers of one data plane, one per backend address and set of
 * check settings, however many rules ask for it: 10,000 rules over the same
 * 20 backends with the same settings run 20 checkers. A checker starts with
 * its first user and stops with its last.
 */
import type { HealthOptions } from "../rules/options.ts";
import type { BackendAddress } from "./address.ts";
import { type CheckSettings, HealthCheck } from "./health-check.ts";
import type { BackendStates } from "./state.ts";

/** A rule's active-check settings with the defaults filled; null when it asks for no active check. */
export function checkSettings(health: HealthOptions | undefined): CheckSettings | null {
  if (health?.path === undefined) return null;
  // Built in one fixed order: its JSON is the settings' canonical form.
  return {
    path: health.path,
    interval: health.interval ?? 2,
    timeout: health.timeout ?? 1,
    rise: health.rise ?? 2,
    fall: health.fall ?? 3,
    expect: health.expect ?? "2xx",
    host: health.host ?? null,
  };
}

interface Entry {
  readonly checker: HealthCheck;
  users: number;
}

export class HealthChecks {
  private readonly entries = new Map<string, Entry>();
  /** Checkers running per backend address. */
  private readonly perAddress = new Map<string, number>();

  constructor(private readonly states: BackendStates) {}

  /** Checkers running. */
  get size(): number {
    return this.entries.size;
  }

  /** Whether an active checker runs for the backend at `key` (`host:port`). */
  has(key: string): boolean {
    return this.perAddress.has(key);
  }

  /**
   * One more user of the checker for `address` with `health`'s settings,
   * started if it is the first; null (and nothing to release) without `path`.
   */
  acquire(address: BackendAddress, health: HealthOptions | undefined): HealthCheck | null {
    const settings = checkSettings(health);
    if (settings === null) return null;
    const id = entryKey(address, settings);
    const entry = this.entries.get(id);
    if (entry !== undefined) {
      entry.users++;
      return entry.checker;
    }
    const checker = new HealthCheck(this.states, address, settings);
    this.entries.set(id, { checker, users: 1 });
    this.perAddress.set(address.key, (this.perAddress.get(address.key) ?? 0) + 1);
    checker.start();
    return checker;
  }

  /**
   * One user fewer; the last stops the checker. When no checker is left for
   * the address, a backend the checks had taken down is up again (as a backend
   * nothing checks is); a passive ejection still in force stays to its end.
   * Releasing what was not acquired does nothing.
   */
  release(address: BackendAddress, health: HealthOptions | undefined): void {
    const settings = checkSettings(health);
    if (settings === null) return;
    const id = entryKey(address, settings);
    const entry = this.entries.get(id);
    if (entry === undefined || --entry.users > 0) return;
    this.entries.delete(id);
    entry.checker.stop();
    const left = (this.perAddress.get(address.key) ?? 1) - 1;
    if (left > 0) {
      this.perAddress.set(address.key, left);
      return;
    }
    this.perAddress.delete(address.key);
    const state = this.states.find(address.key);
    if (state !== undefined && state.health === "down" && state.ejectedUntil === 0) {
      this.states.setHealth(state, "up", "no health check left");
    }
  }

  /** Stops every checker (shutdown); backend states are left as they are. */
  stopAll(): void {
    for (const entry of this.entries.values()) entry.checker.stop();
    this.entries.clear();
    this.perAddress.clear();
  }
}

function entryKey(address: BackendAddress, settings: CheckSettings): string {
  // The pool key: an https backend checked two ways runs two checkers.
  return `${address.poolKey} ${JSON.stringify(settings)}`;
}
