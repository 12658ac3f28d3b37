/**
 * Metrics as plain JSON: what one data plane reports (and a worker sends its
 * primary), and the view a scrape renders: the planes added up, with the
 * counters of workers that died kept so that no total ever goes back.
 */
import type { ProcessSnapshot } from "./process.ts";

export interface RuleSnapshot {
  /** Counters and histograms, as laid out in layout.ts. */
  counts: number[];
  /** Requests open now. */
  open: number;
}

export interface BackendSnapshot extends RuleSnapshot {
  failures: number;
  connectFailures: number;
  /** `up`, `down`, `draining` or `disabled`. */
  state: string;
}

export interface PlaneSnapshot {
  /** The rules that had traffic since start; `(none)` for requests that matched none. */
  rules: Record<string, RuleSnapshot>;
  /** The backends that had traffic or failures since start. */
  backends: Record<string, BackendSnapshot>;
  openConnections: number;
  spinning: number;
  /** Waiting for a backend: queued behind `max_conns`, or all its backends down. */
  waiting: number;
  process: ProcessSnapshot;
}

/** A rule's figures in a view: counts summed, or read in place from the one plane. */
export interface RuleTotals {
  counts: ArrayLike<number>;
  open: number;
}

export interface BackendTotals extends RuleTotals {
  failures: number;
  connectFailures: number;
  /** How many planes see the backend in each state (one without workers). */
  states: Record<string, number>;
}

export interface ProcessView {
  /** The `worker` label: null without workers, else `primary` or the worker's number. */
  worker: string | null;
  process: ProcessSnapshot;
}

export interface MetricsView {
  rules: Map<string, RuleTotals>;
  backends: Map<string, BackendTotals>;
  openConnections: number;
  spinning: number;
  waiting: number;
  processes: ProcessView[];
}

/** Counters of planes that are gone (workers that died or stopped). */
export class Fallen {
  readonly rules = new Map<string, number[]>();
  readonly backends = new Map<string, { counts: number[]; failures: number; connect: number }>();

  add(plane: PlaneSnapshot): void {
    for (const [key, rule] of Object.entries(plane.rules)) {
      this.rules.set(key, addCounts(this.rules.get(key), rule.counts));
    }
    for (const [key, backend] of Object.entries(plane.backends)) {
      const sum = this.backends.get(key);
      this.backends.set(key, {
        counts: addCounts(sum?.counts, backend.counts),
        failures: (sum?.failures ?? 0) + backend.failures,
        connect: (sum?.connect ?? 0) + backend.connectFailures,
      });
    }
  }
}

/** Every plane added up, the fallen ones' counters too; `processes` as they are. */
export function combine(
  planes: readonly PlaneSnapshot[],
  processes: ProcessView[],
  fallen: Fallen | null = null,
): MetricsView {
  const rules = new Map<string, RuleSnapshot>();
  const backends = new Map<string, BackendSum>();
  if (fallen !== null) {
    for (const [key, counts] of fallen.rules) rules.set(key, { counts: [...counts], open: 0 });
    for (const [key, { counts, failures, connect }] of fallen.backends) {
      backends.set(key, {
        counts: [...counts],
        open: 0,
        failures,
        connectFailures: connect,
        states: {},
      });
    }
  }
  const view = { rules, backends, openConnections: 0, spinning: 0, waiting: 0, processes };
  for (const plane of planes) {
    view.openConnections += plane.openConnections;
    view.spinning += plane.spinning;
    view.waiting += plane.waiting;
    for (const [key, rule] of Object.entries(plane.rules)) {
      const sum = rules.get(key);
      if (sum === undefined) rules.set(key, { counts: [...rule.counts], open: rule.open });
      else {
        sum.counts = addCounts(sum.counts, rule.counts);
        sum.open += rule.open;
      }
    }
    for (const [key, backend] of Object.entries(plane.backends)) {
      const { state, ...figures } = backend;
      let sum = backends.get(key);
      if (sum === undefined) {
        sum = { ...figures, counts: [...figures.counts], states: {} };
        backends.set(key, sum);
      } else {
        sum.counts = addCounts(sum.counts, figures.counts);
        sum.open += figures.open;
        sum.failures += figures.failures;
        sum.connectFailures += figures.connectFailures;
      }
      sum.states[state] = (sum.states[state] ?? 0) + 1;
    }
  }
  return view;
}

interface BackendSum extends BackendTotals {
  counts: number[];
}

/**
 * What the primary of workers shows: the planes of the workers that reported
 * (each under its number), the fallen ones' counters, and its own process.
 */
export function combineWorkers(
  primary: ProcessSnapshot,
  workers: readonly (readonly [string, PlaneSnapshot | null])[],
  fallen: Fallen,
): MetricsView {
  const planes: PlaneSnapshot[] = [];
  const processes: ProcessView[] = [{ worker: "primary", process: primary }];
  for (const [worker, plane] of workers) {
    if (plane === null) continue;
    planes.push(plane);
    processes.push({ worker, process: plane.process });
  }
  return combine(planes, processes, fallen);
}

/** `a + b` slot by slot (a missing `a` counts as zeros). */
function addCounts(a: number[] | undefined, b: readonly number[]): number[] {
  if (a === undefined) return [...b];
  for (let i = 0; i < b.length; i++) a[i] = (a[i] ?? 0) + b[i]!;
  return a;
}
