/**
 * The counting alone, without the noise of a loaded machine: a metrics book
 * told of the same proxied request end over and over, as the data plane tells
 * it of each request, timed in CPU time. Its cost per call, set against
 * Mantrid's CPU per request under load, is the share that metrics take.
 */
import { BackendStates } from "../src/backend/state.ts";
import { StatsBook } from "../src/stats/host-stats.ts";
import { MetricsBook } from "../src/stats/metrics/book.ts";
import type { RequestEnd } from "../src/stats/request-end.ts";

const CALLS = 5_000_000;

/** Nanoseconds of CPU per `requestEnded` call: the median of `repeats` timed batches. */
export function countingNanoseconds(repeats = 5): number {
  const stats = new StatsBook();
  const backends = new BackendStates();
  const book = new MetricsBook(stats, backends, {
    openConnections: () => 0,
    spinning: () => 0,
    waiting: () => 0,
  });
  // A small proxied answer as the benchmark's own: under a millisecond, a 6-byte body.
  const request: RequestEnd = {
    startedAt: 1000,
    endedAt: 1000.8,
    status: 200,
    completed: true,
    bytesIn: 96,
    bytesOut: 180,
    stats: stats.of("bench.test"),
    ruleKey: "bench.test",
    host: "bench.test",
    method: "GET",
    backend: backends.get("127.0.0.1:8000"),
    attempts: 1,
    headMs: 0.4,
    heldMs: 0,
    target: () => "/small",
    clientAddress: "127.0.0.1",
  };
  const batch = () => {
    const before = process.cpuUsage();
    for (let i = 0; i < CALLS; i++) book.requestEnded(request);
    const spent = process.cpuUsage(before);
    return ((spent.user + spent.system) * 1000) / CALLS;
  };
  batch(); // warm-up: the call is compiled as the data plane's would be
  const times = Array.from({ length: repeats }, batch).sort((a, b) => a - b);
  return times[Math.floor(repeats / 2)]!;
}
