/** What one load run measured, whichever tool made the load. */
export interface LoadResult {
  /** Completed requests. */
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  /** Latency percentiles, in milliseconds. */
  p50Ms: number;
  p99Ms: number;
  /** Response bytes read per second (as wrk counts them: heads and bodies). */
  readBytesPerSecond: number;
  /** Non-2xx/3xx answers plus socket errors (connect, read, write, timeout). */
  errors: number;
  /** User + system CPU time of the target's processes per request, in µs (NaN: unknown). */
  cpuPerRequestUs: number;
}

/** The settings of one load run. */
export interface LoadSpec {
  url: string;
  host: string;
  method: "GET" | "POST";
  headers: Record<string, string>;
  bodyBytes: number;
  wrkScript?: string;
  durationSeconds: number;
  threads: number;
  connections: number;
}

/** The run with the median req/s (the lower middle one of an even count). */
export function medianRun(runs: LoadResult[]): LoadResult | undefined {
  const sorted = [...runs].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
