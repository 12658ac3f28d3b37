/**
 * Rates with `workers = 2`, run from source: each worker samples its own
 * counters every second, and the primary adds up what they report for
 * `/stats/` and `client top`. No sample can be forced in another process, so
 * the test waits for the workers' next one to hold the traffic.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { HostRates } from "../../src/stats/rate-view.ts";
import { client } from "../client/harness.ts";
import { SRC } from "../support/script.ts";
import { waitFor } from "../support/wait.ts";
import { connect, parseResponses } from "../support/wire.ts";

let folder: string;
let server: Subprocess<"ignore", "ignore", "pipe">;
let port: number;
let api: string;

/** Reads the log until `pattern` shows. */
async function logMatch(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  pattern: RegExp,
  seen: { text: string },
): Promise<RegExpMatchArray> {
  const decoder = new TextDecoder();
  for (;;) {
    const match = seen.text.match(pattern);
    if (match) return match;
    const { value, done } = await reader.read();
    if (done) throw new Error(`the log ended without ${pattern}:\n${seen.text}`);
    seen.text += decoder.decode(value);
  }
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "mantrid-rates-"));
  server = Bun.spawn(
    [
      process.execPath,
      `${SRC}/main.ts`,
      "serve",
      "--bind",
      "127.0.0.1:0",
      "--management",
      "127.0.0.1:0",
      "--state-file",
      join(folder, "state.json"),
      "--static-dir",
      folder,
      "--workers",
      "2",
    ],
    { stdin: "ignore", stdout: "ignore", stderr: "pipe" },
  );
  const reader = server.stderr.getReader();
  const seen = { text: "" };
  port = Number((await logMatch(reader, /listening on [^\s]+:(\d+)/, seen))[1]);
  api = (await logMatch(reader, /management API on (http:\/\/[^\s]+?)\/?\s/, seen))[1]!;
  reader.releaseLock();
  // The rest of the log is not read: drain it so the server never blocks on a full pipe.
  void server.stderr.pipeTo(new WritableStream());
});
afterAll(async () => {
  server.kill("SIGKILL");
  await server.exited;
  await rm(folder, { recursive: true, force: true });
});

test("the primary adds up the workers' rates for /stats/ and top", async () => {
  const put = await fetch(`${api}/hostname/w.test/`, {
    method: "PUT",
    body: JSON.stringify(["empty", { code: 200 }, false]),
  });
  expect(put.status).toBe(200);
  // One connection each, so the kernel spreads them over both workers.
  const statuses = await Promise.all(
    Array.from({ length: 30 }, async () => {
      const connection = await connect(port);
      connection.send("GET / HTTP/1.1\r\nHost: w.test\r\nConnection: close\r\n\r\n");
      return parseResponses(await connection.closed)[0]?.status;
    }),
  );
  expect(statuses.every((status) => status === 200)).toBe(true);

  const perMinute = async () => {
    const view = (await (await fetch(`${api}/stats/w.test/`)).json()) as { rates: HostRates };
    return Math.round(view.rates.requests_per_second["60s"] * 60);
  };
  await waitFor(async () => (await perMinute()) === 30, "the workers' samples of 30 requests");

  const top = await client(["--url", api, "top", "--once"]);
  expect(top.code).toBe(0);
  expect(top.stdout).toMatch(/^w\.test +[\d.]+ +[\d.]+ +0\.50 /m);
});
