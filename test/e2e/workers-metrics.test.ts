/**
 * `/metrics` of the binary with `--workers 2`: the primary sums what both
 * workers counted, labels each process's own figures with its worker, and
 * keeps the counts of a worker that died.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type RunningBinary, startBinary } from "../support/binary.ts";
import { type Family, parseMetrics, samplesOf, sampleValue } from "../support/metrics-text.ts";
import { waitFor } from "../support/wait.ts";
import { connect, parseResponses } from "../support/wire.ts";

let server: RunningBinary;
let pids: number[];

beforeAll(async () => {
  server = await startBinary(["--workers", "2"]);
  const match = /2 workers: pids (\d+), (\d+)/.exec(server.log());
  pids = [Number(match![1]), Number(match![2])];
});
afterAll(() => server.stop("SIGKILL"));

/** `count` requests, each on a connection of its own, so the kernel spreads them over both workers. */
async function send(host: string, count: number): Promise<void> {
  const statuses = await Promise.all(
    Array.from({ length: count }, async () => {
      const connection = await connect(server.port);
      connection.send(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      return parseResponses(await connection.closed)[0]?.status ?? 0;
    }),
  );
  expect(new Set(statuses)).toEqual(new Set([203]));
}

async function scrape(): Promise<Map<string, Family>> {
  const response = await fetch(`${server.api}/metrics`);
  expect(response.status).toBe(200);
  return parseMetrics(await response.text(), "prometheus");
}

const requests = (families: Map<string, Family>) =>
  sampleValue(families, "mantrid_requests_total", { rule: "w.test", code: "2xx" });

test("the primary sums both workers' requests, and labels each process's own figures", async () => {
  expect((await server.client("set", "w.test", "empty", "false", "code=203")).code).toBe(0);
  await send("w.test", 40);
  const families = await scrape();
  expect(requests(families)).toBe(40);
  expect(sampleValue(families, "mantrid_request_duration_seconds_count", { rule: "w.test" })).toBe(
    40,
  );
  expect(sampleValue(families, "mantrid_rules")).toBe(1);
  const workers = samplesOf(families, "process_resident_memory_bytes").map((s) => s.labels.worker);
  expect(workers).toEqual(["primary", "1", "2"]);
  const lag = samplesOf(families, "mantrid_event_loop_lag_seconds_count").map((s) => s.labels);
  expect(lag).toEqual([{ worker: "primary" }, { worker: "1" }, { worker: "2" }]);
});

test("a worker that dies takes none of the counts it reported with it", async () => {
  process.kill(pids[0]!, "SIGKILL");
  await waitFor(() => server.log().includes("worker 1 restarted"), "the restarted worker");
  await send("w.test", 20);
  expect(requests(await scrape())).toBe(60);
});
