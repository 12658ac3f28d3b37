/**
 * A small built-in load generator for machines without wrk: `connections`
 * loops, each sending one request after the other with fetch (keep-alive
 * unless the scenario asks for a new connection each time), for a fixed time.
 */
import type { LoadResult, LoadSpec } from "./result.ts";

function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

/** A load's result from what its loops measured (the CPU is read by the caller). */
export function loadResult(
  latencies: number[],
  readBytes: number,
  errors: number,
  started: number,
): LoadResult {
  const seconds = (performance.now() - started) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: latencies.length,
    seconds,
    requestsPerSecond: latencies.length / seconds,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    readBytesPerSecond: readBytes / seconds,
    errors,
    cpuPerRequestUs: Number.NaN,
  };
}

export async function runBuiltinLoad(spec: LoadSpec): Promise<LoadResult> {
  const body = spec.bodyBytes > 0 ? new Uint8Array(spec.bodyBytes).fill(120) : undefined;
  const headers: Record<string, string> = { ...spec.headers, Host: spec.host };
  const keepalive = headers.Connection?.toLowerCase() !== "close";
  const latencies: number[] = [];
  let readBytes = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + spec.durationSeconds * 1000;

  const loop = async () => {
    while (performance.now() < deadline) {
      const sent = performance.now();
      try {
        const response = await fetch(spec.url, {
          method: spec.method,
          headers,
          body,
          keepalive,
          signal: AbortSignal.timeout(10_000),
        });
        const received = await response.arrayBuffer();
        readBytes += received.byteLength;
        if (response.status >= 400) errors++;
        else latencies.push(performance.now() - sent);
      } catch {
        errors++;
        // A refused connection fails at once; do not spin on it.
        await Bun.sleep(10);
      }
    }
  };
  await Promise.all(Array.from({ length: spec.connections }, loop));
  return loadResult(latencies, readBytes, errors, started);
}
