/** `workers = N`: shared ports, rule changes reach every worker, counters summed, a dead worker replaced. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type RunningBinary, startWorkersBinary } from "../support/binary.ts";
import { waitFor } from "../support/wait.ts";
import { connect, parseResponses } from "../support/wire.ts";

let server: RunningBinary;
let pids: number[];

beforeAll(async () => {
  ({ server, pids } = await startWorkersBinary());
});
afterAll(() => server.stop("SIGKILL"));

async function statuses(host: string, count: number): Promise<number[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const connection = await connect(server.port);
      connection.send(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      return parseResponses(await connection.closed)[0]?.status ?? 0;
    }),
  );
}

async function completed(host: string): Promise<number> {
  const stats = (await (await fetch(`${server.api}/stats/${host}`)).json()) as Record<
    string,
    number
  >;
  return stats.completed_requests ?? 0;
}

test("two worker processes share the port and every change reaches both", async () => {
  expect(pids[0]).not.toBe(pids[1]);
  expect((await server.client("set", "w.test", "empty", "false", "code=203")).code).toBe(0);
  // Forty connections spread over both workers: each must already know the rule.
  expect(new Set(await statuses("w.test", 40))).toEqual(new Set([203]));
  expect((await server.client("set", "w.test", "empty", "false", "code=202")).code).toBe(0);
  expect(new Set(await statuses("w.test", 40))).toEqual(new Set([202]));
});

test("/stats/ sums the workers", async () => {
  expect(await completed("w.test")).toBe(80);
});

test("a worker that dies is restarted, and the other serves meanwhile", async () => {
  process.kill(pids[0]!, "SIGKILL");
  await waitFor(
    () => server.log().includes("exited (SIGKILL); restarting it"),
    "the restart notice",
  );
  expect(new Set(await statuses("w.test", 20))).toEqual(new Set([202]));
  await waitFor(() => server.log().includes("worker 1 restarted"), "the restarted worker");
  expect(new Set(await statuses("w.test", 20))).toEqual(new Set([202]));
  // The dead worker's counts are kept.
  expect(await completed("w.test")).toBe(120);
});

test("a whole new rule set reaches every worker", async () => {
  const response = await fetch(`${server.api}/hostname/`, {
    method: "PUT",
    body: JSON.stringify({
      "w.test": ["empty", { code: 202 }, false],
      "set.test": ["empty", { code: 201 }, true],
    }),
  });
  expect(response.status).toBe(200);
  expect(new Set(await statuses("www.set.test", 40))).toEqual(new Set([201]));
});

test("SIGTERM stops the workers and saves the summed counters", async () => {
  expect(await server.stop("SIGTERM")).toBe(0);
  const state = JSON.parse(await Bun.file(`${server.dir}/state.json`).text());
  expect(state.stats["w.test"].completed_requests).toBe(120);
});
