/**
 * The dashboard's p99, from the metrics' request-duration histograms: each
 * second it reads every rule's bucket counts, and the p99 of a window is
 * that of the difference between two readings, as Prometheus's
 * `histogram_quantile` over a `rate` computes it.
 */
import { NO_RULE } from "../../stats/metrics/book.ts";
import { LATENCY_BOUNDS } from "../../stats/metrics/buckets.ts";
import { DURATION } from "../../stats/metrics/layout.ts";
import type { MetricsView } from "../../stats/metrics/snapshot.ts";

/** The histogram's bucket bounds in milliseconds, the unit the dashboard shows. */
export const BOUNDS_MS: readonly number[] = LATENCY_BOUNDS.map((seconds) => seconds * 1000);

/** Requests per bucket (not cumulative, `+Inf` last) of each rule, at one reading. */
export type DurationReading = Map<string, Float64Array>;

/**
 * Copies each rule's duration buckets out of a view (whose counts may be the
 * live arrays of this process's plane); requests that matched no rule have no
 * row on the dashboard and are left out.
 */
export function readDurations(view: MetricsView): DurationReading {
  const reading: DurationReading = new Map();
  const size = BOUNDS_MS.length + 1;
  for (const [rule, totals] of view.rules) {
    if (rule === NO_RULE) continue;
    const buckets = new Float64Array(size);
    for (let i = 0; i < size; i++) buckets[i] = totals.counts[DURATION + i] ?? 0;
    reading.set(rule, buckets);
  }
  return reading;
}

/**
 * Requests per bucket that ended between two readings: `after - before`, a
 * missing `before` (a rule with no traffic then) counting as zeros. A bucket
 * that went back (counts of a worker lost between its last report and its
 * death) counts nothing rather than less than nothing.
 */
export function bucketDeltas(
  before: ArrayLike<number> | undefined,
  after: ArrayLike<number>,
): Float64Array {
  const deltas = new Float64Array(after.length);
  for (let i = 0; i < after.length; i++) {
    deltas[i] = Math.max(0, after[i]! - (before?.[i] ?? 0));
  }
  return deltas;
}

/**
 * The `q` quantile (0 to 1) of requests counted by bucket, interpolated
 * linearly within its bucket (the first one starting at 0), as Prometheus's
 * `histogram_quantile` does; one that falls past the bounds is reported as
 * the largest bound. Null when no request was counted.
 */
export function quantile(
  q: number,
  buckets: ArrayLike<number>,
  bounds: readonly number[],
): number | null {
  let total = 0;
  for (let i = 0; i < buckets.length; i++) total += buckets[i]!;
  if (total <= 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < buckets.length; i++) {
    const count = buckets[i]!;
    if (count > 0 && below + count >= rank) {
      if (i >= bounds.length) break;
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      const upper = bounds[i]!;
      return lower + ((upper - lower) * (rank - below)) / count;
    }
    below += count;
  }
  return bounds[bounds.length - 1] ?? null;
}

/** The `q` quantile of the requests that ended between two readings of one histogram. */
export function windowQuantile(
  q: number,
  before: ArrayLike<number> | undefined,
  after: ArrayLike<number>,
  bounds: readonly number[],
): number | null {
  return quantile(q, bucketDeltas(before, after), bounds);
}

/** Each rule's p99 over the window between two readings, and the p99 of all of them together. */
export function windowP99(
  before: DurationReading,
  after: DurationReading,
): { byHost: Map<string, number>; all: number | null } {
  const byHost = new Map<string, number>();
  const all = new Float64Array(BOUNDS_MS.length + 1);
  for (const [host, buckets] of after) {
    const deltas = bucketDeltas(before.get(host), buckets);
    const p99 = quantile(0.99, deltas, BOUNDS_MS);
    if (p99 === null) continue;
    byHost.set(host, p99);
    for (let i = 0; i < deltas.length; i++) all[i]! += deltas[i]!;
  }
  return { byHost, all: quantile(0.99, all, BOUNDS_MS) };
}
