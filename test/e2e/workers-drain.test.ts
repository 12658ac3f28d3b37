/** `workers = N` and backends: a drain reaches every worker, a restarted one too, and `/backend/` sums them. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { namedBackend, type TestBackend } from "../support/backend.ts";
import { type RunningBinary, startBinary } from "../support/binary.ts";
import { waitFor } from "../support/wait.ts";
import { connect, parseResponses } from "../support/wire.ts";

let server: RunningBinary;
let a: TestBackend;
let b: TestBackend;
let A: string;
let B: string;

beforeAll(async () => {
  server = await startBinary(["--workers", "2"]);
  a = await namedBackend("a");
  b = await namedBackend("b");
  A = `127.0.0.1:${a.port}`;
  B = `127.0.0.1:${b.port}`;
  const rule = ["proxy", { backends: [A, B], policy: "round_robin" }, false];
  const response = await fetch(`${server.api}/hostname/drain.test/`, {
    method: "PUT",
    body: JSON.stringify(rule),
  });
  expect(response.status).toBe(200);
});
afterAll(async () => {
  await server.stop("SIGKILL");
  await a.close();
  await b.close();
});

/** Which backend answered each of `count` requests, each on a new connection (so both workers serve). */
async function answers(count: number): Promise<string[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const connection = await connect(server.port);
      connection.send("GET / HTTP/1.1\r\nHost: drain.test\r\nConnection: close\r\n\r\n");
      return parseResponses(await connection.closed)[0]?.body.toString() ?? "";
    }),
  );
}

type View = { state: string; requests: number; active: number; rules: string[] };
async function backendList(): Promise<Record<string, View>> {
  return (await fetch(`${server.api}/backend/`)).json() as Promise<Record<string, View>>;
}

test("a drain reaches both workers and a restarted one; /backend/ merges them", async () => {
  expect(new Set(await answers(20))).toEqual(new Set(["a", "b"]));
  const drained = await fetch(`${server.api}/backend/${A}/`, {
    method: "PUT",
    body: JSON.stringify({ state: "drain" }),
  });
  expect(await drained.json()).toEqual({ state: "draining", in_flight: 0 });

  const before = a.requests.length;
  expect(new Set(await answers(100))).toEqual(new Set(["b"]));
  expect(a.requests.length).toBe(before);

  // The counters of both workers, summed, are what each backend saw.
  let list = await backendList();
  expect(list[A]).toMatchObject({ state: "draining", requests: before, active: 0 });
  expect(list[B]).toMatchObject({
    state: "up",
    requests: b.requests.length,
    rules: ["drain.test"],
  });

  // A worker started anew is told of the drain before it serves.
  const pid = Number(/2 workers: pids (\d+)/.exec(server.log())![1]);
  process.kill(pid, "SIGKILL");
  await waitFor(() => server.log().includes("worker 1 restarted"), "the restarted worker");
  expect(new Set(await answers(100))).toEqual(new Set(["b"]));
  expect(a.requests.length).toBe(before);
  list = await backendList();
  // What the dead worker had counted is kept.
  expect(list[B]!.requests).toBe(b.requests.length);

  const enabled = await fetch(`${server.api}/backend/${A}/`, {
    method: "PUT",
    body: JSON.stringify({ state: "enable" }),
  });
  expect(await enabled.json()).toEqual({ state: "up", in_flight: 0 });
  expect(new Set(await answers(20))).toEqual(new Set(["a", "b"]));
});
