/**
 * Request durations per hostname, counted in buckets for the dashboard's p99
 * while a dashboard reads them, and not at all otherwise: an unwatched server
 * pays one comparison per request, and holds no bucket for any hostname.
 */
import type { RequestEnd, RequestObserver } from "../../stats/request-end.ts";
import type { LatencySource } from "./latency.ts";

/** Milliseconds: fine where proxied requests usually are, coarse past a second. */
const BOUNDS_MS = [0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];
/** Counting stops this long after the last reading (the dashboard reads every second). */
const WATCH_MS = 5000;

export class DashboardDurations implements RequestObserver, LatencySource {
  readonly boundsMs: readonly number[] = BOUNDS_MS;
  private counts = new Map<string, number[]>();
  /** Until when (`performance.now()`) requests are counted. */
  private watchedUntil = 0;

  requestEnded(request: RequestEnd): void {
    if (request.endedAt > this.watchedUntil || request.ruleKey === null) return;
    // An upgraded connection's time is how long the tunnel stayed open, not a latency.
    if (request.status === 101) return;
    const ms = request.endedAt - request.startedAt;
    let buckets = this.counts.get(request.ruleKey);
    if (buckets === undefined) {
      buckets = new Array<number>(BOUNDS_MS.length + 1).fill(0);
      this.counts.set(request.ruleKey, buckets);
    }
    let i = 0;
    while (i < BOUNDS_MS.length && ms > BOUNDS_MS[i]!) i++;
    buckets[i]!++;
  }

  async take(): Promise<ReadonlyMap<string, readonly number[]>> {
    this.watchedUntil = performance.now() + WATCH_MS;
    const taken = this.counts;
    this.counts = new Map();
    return taken;
  }
}
