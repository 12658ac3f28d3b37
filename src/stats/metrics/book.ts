/**
 * The metrics of one data plane. Each request that ends adds to the counter
 * array of its rule (hung on the rule's `HostStats`) and of the backend that
 * answered (hung on its `BackendState`): a few increments and two short
 * bucket scans, nothing allocated. An array is made on a rule's or a
 * backend's first request, so series exist only for those with traffic since
 * start, however many rules there are. Gauges (open requests, health) are
 * read when a scrape asks.
 */
import type { BackendStates } from "../../backend/state.ts";
import type { HostStats, StatsBook } from "../host-stats.ts";
import type { RequestEnd, RequestObserver } from "../request-end.ts";
import { LATENCY_BOUNDS, observe } from "./buckets.ts";
import {
  codeSlot,
  DURATION,
  HEAD,
  HELD,
  INCOMPLETE,
  RECEIVED,
  RETRIES,
  SENT,
  SLOTS,
} from "./layout.ts";
import { processWatch } from "./process.ts";
import type { MetricsView, PlaneSnapshot } from "./snapshot.ts";

/** The `rule` label of requests that matched no rule (a hostname can hold no parenthesis). */
export const NO_RULE = "(none)";

/** What the book reads of its plane when a scrape asks. */
export interface PlaneGauges {
  openConnections(): number;
  spinning(): number;
  waiting(): number;
}

interface RuleEntry {
  readonly key: string;
  readonly stats: HostStats | null;
  readonly counts: Float64Array;
}

export class MetricsBook implements RequestObserver {
  /** Rules in the order they first had traffic. */
  private readonly rules: RuleEntry[] = [];
  private unmatched: Float64Array | null = null;

  constructor(
    private readonly stats: StatsBook,
    private readonly backends: BackendStates,
    private readonly plane: PlaneGauges,
  ) {
    processWatch();
  }

  requestEnded(request: RequestEnd): void {
    const stats = request.stats;
    const rule =
      stats === null
        ? (this.unmatched ?? this.adoptUnmatched())
        : (stats.metrics ?? this.adopt(stats, request.ruleKey ?? NO_RULE));
    count(rule, request);
    if (request.attempts > 1) rule[RETRIES]! += request.attempts - 1;
    if (request.heldMs > 0) rule[HELD]! += request.heldMs / 1000;
    const backend = request.backend;
    if (backend !== null) {
      let counts = backend.metrics;
      if (counts === null) {
        counts = new Float64Array(SLOTS);
        backend.metrics = counts;
      }
      count(counts, request);
    }
  }

  /** This plane's figures, as a worker sends them (plain arrays, for JSON). */
  snapshot(): PlaneSnapshot {
    const figures = this.figures(toArray);
    return {
      ...figures,
      rules: Object.fromEntries(figures.rules),
      backends: Object.fromEntries(figures.backends),
    };
  }

  /** What a scrape of this process shows: its one plane, read in place. */
  async view(): Promise<MetricsView> {
    const { rules, backends, process, ...plane } = this.figures((counts) => counts);
    return {
      ...plane,
      rules: new Map(rules),
      backends: new Map(
        backends.map(([key, { state, ...figures }]) => [
          key,
          { ...figures, states: { [state]: 1 } },
        ]),
      ),
      processes: [{ worker: null, process }],
    };
  }

  private figures<C>(copy: (counts: Float64Array) => C) {
    // A rule whose first requests are still open has its series already.
    this.stats.byHost.forEach((stats, key) => {
      if (stats.metrics === null && stats.open_requests > 0) this.adopt(stats, key);
    });
    const rules = this.rules.map(
      ({ key, stats, counts }) =>
        [key, { counts: copy(counts), open: stats?.open_requests ?? 0 }] as const,
    );
    const backends: (readonly [string, BackendFigures<C>])[] = [];
    for (const state of this.backends.all()) {
      const seen = state.metrics !== null || state.failures > 0 || state.connectFailures > 0;
      if (!seen && state.active === 0) continue;
      backends.push([
        state.key,
        {
          counts: copy(state.metrics ?? new Float64Array(SLOTS)),
          open: state.active,
          failures: state.failures,
          connectFailures: state.connectFailures,
          state: state.stateName,
        },
      ]);
    }
    const plane = this.plane;
    return {
      rules,
      backends,
      openConnections: plane.openConnections(),
      spinning: plane.spinning(),
      waiting: plane.waiting(),
      process: processWatch().snapshot(),
    };
  }

  private adopt(stats: HostStats, key: string): Float64Array {
    const counts = new Float64Array(SLOTS);
    stats.metrics = counts;
    this.rules.push({ key, stats, counts });
    return counts;
  }

  private adoptUnmatched(): Float64Array {
    const counts = new Float64Array(SLOTS);
    this.unmatched = counts;
    this.rules.push({ key: NO_RULE, stats: null, counts });
    return counts;
  }
}

interface BackendFigures<C> {
  counts: C;
  open: number;
  failures: number;
  connectFailures: number;
  state: string;
}

/** A plain copy (Array.from is slow on typed arrays in Bun). */
function toArray(counts: Float64Array): number[] {
  const out = new Array<number>(counts.length);
  for (let i = 0; i < counts.length; i++) out[i] = counts[i]!;
  return out;
}

/** What every request adds, to its rule and to its backend. */
function count(counts: Float64Array, request: RequestEnd): void {
  counts[codeSlot(request.status)]!++;
  if (!request.completed) counts[INCOMPLETE]!++;
  counts[RECEIVED]! += request.bytesIn;
  counts[SENT]! += request.bytesOut;
  // An upgraded connection's time is how long its tunnel stayed open, not a latency.
  if (request.status !== 101) {
    observe(counts, DURATION, LATENCY_BOUNDS, (request.endedAt - request.startedAt) / 1000);
  }
  if (request.headMs >= 0) observe(counts, HEAD, LATENCY_BOUNDS, request.headMs / 1000);
}
