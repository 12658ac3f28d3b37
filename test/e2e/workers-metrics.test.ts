/**
 * `/metrics` of the binary with `--workers 2`: the primary sums what both
 * workers counted, labels each process's own figures with its worker, and
 * keeps the counts of a worker that died; the dashboard takes its p99 from
 * those sums. With `metrics = false` in the config file, nothing is counted.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hello, Sample } from "../../src/management/dashboard/sample.ts";
import { type RunningBinary, startBinary, startWorkersBinary } from "../support/binary.ts";
import { type Family, parseMetrics, samplesOf, sampleValue } from "../support/metrics-text.ts";
import { events } from "../support/sse.ts";
import { waitFor } from "../support/wait.ts";
import { connect, parseResponses } from "../support/wire.ts";

let server: RunningBinary;
let pids: number[];

beforeAll(async () => {
  ({ server, pids } = await startWorkersBinary());
});
afterAll(() => server.stop("SIGKILL"));

/** `count` requests, each on a connection of its own, so the kernel spreads them over both workers. */
async function send(host: string, count: number, target = server): Promise<void> {
  const statuses = await Promise.all(
    Array.from({ length: count }, async () => {
      const connection = await connect(target.port);
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

/** Batches of requests to `host` until stopped, so that every sampling window sees some. */
function traffic(host: string, target = server) {
  let running = true;
  const done = (async () => {
    while (running) await send(host, 10, target);
  })();
  return async () => {
    running = false;
    await done;
  };
}

const row = (sample: Sample, host: string) => sample.hosts.find((r) => r.host === host);

test("the dashboard's p99 comes from the workers' summed histograms", async () => {
  const reader = events(await fetch(`${server.api}/dashboard/stream`));
  const stop = traffic("w.test");
  try {
    expect(((await reader.next()).data as Hello).p99).toBe(true);
    const sample = await reader.until<Sample>(
      (s) => typeof row(s, "w.test")?.p99 === "number",
      15,
      "a p99 for w.test",
    );
    expect(row(sample, "w.test")!.p99).toBeGreaterThan(0);
    expect(row(sample, "w.test")!.rps).toBeGreaterThan(0);
    expect(sample.totals.p99).toBeGreaterThan(0);
  } finally {
    await stop();
    await reader.close();
  }
}, 30_000);

test("a worker that dies takes none of the counts it reported with it", async () => {
  // Read (and so reported by both workers) just before one of them dies.
  const before = requests(await scrape())!;
  process.kill(pids[0]!, "SIGKILL");
  await waitFor(() => server.log().includes("worker 1 restarted"), "the restarted worker");
  await send("w.test", 20);
  expect(requests(await scrape())).toBe(before + 20);
});

test("metrics = false in the config file: /metrics is a 404, the dashboard has rates and no p99", async () => {
  const dir = await mkdtemp(join(tmpdir(), "mantrid-metrics-off-"));
  const config = join(dir, "mantrid.conf");
  await writeFile(config, "metrics = false\n");
  const quiet = await startBinary(["--workers", "2", "-c", config], dir);
  try {
    expect((await quiet.client("set", "w.test", "empty", "false", "code=203")).code).toBe(0);
    const response = await fetch(`${quiet.api}/metrics`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: string }).error).toContain("metrics = false");
    const reader = events(await fetch(`${quiet.api}/dashboard/stream`));
    const stop = traffic("w.test", quiet);
    try {
      expect(((await reader.next()).data as Hello).p99).toBe(false);
      const sample = await reader.until<Sample>(
        (s) => (row(s, "w.test")?.rps ?? 0) > 0,
        15,
        "a rate for w.test",
      );
      expect(row(sample, "w.test")!.p99).toBeNull();
      expect(sample.totals.p99).toBeNull();
    } finally {
      await stop();
      await reader.close();
    }
  } finally {
    await quiet.stop("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  }
}, 30_000);
