/**
 * Histograms kept as plain slots of a counter array: one count per bucket
 * (not cumulative: the exposition adds them up), one for `+Inf`, then the sum.
 * Counting a value is a short scan from the lowest bound, where most values
 * land, and two increments: nothing is allocated.
 */

/** Seconds: from a fast proxied answer on a LAN to a backend that takes its time. */
export const LATENCY_BOUNDS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
];

/** Seconds late of a timer that should fire every 100 ms. */
export const LAG_BOUNDS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

/** Seconds one garbage collection took. */
export const GC_BOUNDS: readonly number[] = [
  0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
];

/** Slots a histogram over `bounds` takes: its buckets, `+Inf`, the sum. */
export function histogramSlots(bounds: readonly number[]): number {
  return bounds.length + 2;
}

/** The bucket of `value`: the first whose bound it does not exceed, else `+Inf` (`bounds.length`). */
export function bucketOf(bounds: readonly number[], value: number): number {
  const count = bounds.length;
  let i = 0;
  while (i < count && value > bounds[i]!) i++;
  return i;
}

/** Counts `value` in the histogram whose slots start at `at`. */
export function observe(
  slots: Float64Array,
  at: number,
  bounds: readonly number[],
  value: number,
): void {
  slots[at + bucketOf(bounds, value)]!++;
  slots[at + bounds.length + 1]! += value;
}
