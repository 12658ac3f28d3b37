/**
 * Passive ejection: failures of real traffic (connect failures, resets before
 * the response head, the statuses a rule lists; the caller decides what counts)
 * take a backend down once `failures` of them fall within `window` seconds. It
 * comes back through its active check when one runs for its address (that
 * checker's `rise`), else when `eject` seconds are over (`sweepEjections`).
 *
 * Times are milliseconds on one clock for every call (`Date.now()` keeps
 * `ejectedUntil` readable next to `since` and `check.at`).
 */
import type { PassiveOptions } from "../rules/options.ts";
import type { BackendState, BackendStates } from "./state.ts";

/** A rule's passive settings with the defaults filled. */
export interface PassiveSettings {
  readonly failures: number;
  /** Seconds in which `failures` must fall. */
  readonly window: number;
  /** Seconds out before coming back without an active check. */
  readonly eject: number;
  /** Response statuses that count as failures (none unless listed). */
  readonly statuses: readonly number[];
}

export function passiveSettings(passive: PassiveOptions): PassiveSettings {
  return {
    failures: passive.failures ?? 3,
    window: passive.window ?? 10,
    eject: passive.eject ?? 30,
    statuses: passive.statuses ?? [],
  };
}

/** Backends ejected and not yet back, per data plane: the sweep looks at these only. */
const ejectedBy = new WeakMap<BackendStates, Set<BackendState>>();

/**
 * One failure of real traffic at `state`'s backend: always counted in
 * `failures`; with `passive` settings, an up backend with enough recent
 * failures is ejected. Returns whether this failure ejected it.
 */
export function reportFailure(
  states: BackendStates,
  state: BackendState,
  passive: PassiveOptions | null | undefined,
  now: number,
): boolean {
  state.failures++;
  if (passive == null || state.health === "down") return false;
  const { failures, window, eject } = passiveSettings(passive);
  const recent = state.recentFailures;
  const since = now - window * 1000;
  let old = 0;
  while (old < recent.length && recent[old]! <= since) old++;
  if (old > 0) recent.splice(0, old);
  recent.push(now);
  if (recent.length < failures) return false;
  recent.length = 0;
  state.ejectedUntil = now + eject * 1000;
  let ejected = ejectedBy.get(states);
  if (ejected === undefined) {
    ejected = new Set();
    ejectedBy.set(states, ejected);
  }
  ejected.add(state);
  states.setHealth(state, "down", `${failures} failures in ${window} s: ejected for ${eject} s`);
  return true;
}

/**
 * An answer from `state`'s backend: the failures before it no longer count,
 * so only failures in a row eject. Callers that want failures counted over
 * the window whatever came between simply do not call it.
 */
export function reportSuccess(state: BackendState): void {
  if (state.recentFailures.length > 0) state.recentFailures.length = 0;
}

/**
 * Brings back the ejected backends whose `eject` time is over and that no
 * active check watches (a checker's `rise` decides for those). Called from
 * the data plane's periodic sweep.
 */
export function sweepEjections(
  states: BackendStates,
  now: number,
  hasActiveCheck: (key: string) => boolean,
): void {
  const ejected = ejectedBy.get(states);
  if (ejected === undefined || ejected.size === 0) return;
  for (const state of ejected) {
    // Brought back already (by its checker).
    if (state.ejectedUntil === 0 || state.health === "up") {
      ejected.delete(state);
      continue;
    }
    if (state.ejectedUntil > now || hasActiveCheck(state.key)) continue;
    ejected.delete(state);
    state.ejectedUntil = 0;
    state.recentFailures.length = 0;
    states.setHealth(state, "up", "ejection over");
  }
}
