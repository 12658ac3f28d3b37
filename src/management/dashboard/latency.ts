/**
 * Request durations per hostname, for the dashboard's p99: whatever counts
 * them in buckets hands over, once a second, what ended since it last did.
 */

export interface LatencySource {
  /** Upper bounds of the duration buckets in milliseconds, ascending. */
  readonly boundsMs: readonly number[];
  /**
   * Requests per bucket of each hostname (keys as `/stats/` has them) that
   * ended since the last call: `buckets[i]` counts those that took at most
   * `boundsMs[i]` and more than `boundsMs[i - 1]`; one more, past the bounds,
   * counts the slower rest. Hostnames with none are absent.
   */
  take(): Promise<ReadonlyMap<string, readonly number[]>>;
}

/**
 * The `q` quantile (0 to 1) of requests counted by bucket, interpolated within
 * its bucket as Prometheus's `histogram_quantile` does; one in the slower rest
 * is reported as the largest bound. Null when no request was counted.
 */
export function quantile(q: number, buckets: ArrayLike<number>, boundsMs: readonly number[]) {
  let total = 0;
  for (let i = 0; i < buckets.length; i++) total += buckets[i]!;
  if (total <= 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < buckets.length; i++) {
    const count = buckets[i]!;
    if (count > 0 && below + count >= rank) {
      if (i >= boundsMs.length) return boundsMs[boundsMs.length - 1] ?? null;
      const lower = i === 0 ? 0 : boundsMs[i - 1]!;
      const upper = boundsMs[i]!;
      return lower + ((upper - lower) * (rank - below)) / count;
    }
    below += count;
  }
  return boundsMs[boundsMs.length - 1] ?? null;
}

/** How much of the older durations a second keeps: a p99 of about the last 10 s. */
const FADE = 0.9;

/**
 * Recent durations per hostname: each second's buckets added to the older
 * ones, faded, so a p99 reads the last seconds, and a hostname gone quiet is
 * dropped once its durations have faded out.
 */
export class RecentLatency {
  private readonly recent = new Map<string, Float64Array>();

  constructor(private readonly boundsMs: readonly number[]) {}

  /** Adds one second; returns each hostname's recent p99, and that second's p99 of all. */
  update(second: ReadonlyMap<string, readonly number[]>): {
    byHost: Map<string, number>;
    all: number | null;
  } {
    const size = this.boundsMs.length + 1;
    const all = new Float64Array(size);
    for (const [host, buckets] of second) {
      let recent = this.recent.get(host);
      if (recent === undefined) {
        recent = new Float64Array(size);
        this.recent.set(host, recent);
      }
      for (let i = 0; i < size; i++) {
        const count = buckets[i] ?? 0;
        recent[i]! += count;
        all[i]! += count;
      }
    }
    const byHost = new Map<string, number>();
    for (const [host, recent] of this.recent) {
      const p99 = quantile(0.99, recent, this.boundsMs);
      if (p99 !== null) byHost.set(host, p99);
      let left = 0;
      for (let i = 0; i < size; i++) {
        recent[i]! *= FADE;
        left += recent[i]!;
      }
      if (left < 0.01) this.recent.delete(host);
    }
    return { byHost, all: quantile(0.99, all, this.boundsMs) };
  }
}
