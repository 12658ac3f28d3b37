/** The access log of the real binary with workers: a real SIGUSR1 after a rename, and stderr. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBinary } from "../support/binary.ts";
import { waitFor } from "../support/wait.ts";
import { connect, parseResponses } from "../support/wire.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mantrid-e2e-access-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** One request per connection, so that the workers share them; resolves with the statuses. */
function send(port: number, targets: string[]): Promise<number[]> {
  return Promise.all(
    targets.map(async (target) => {
      const connection = await connect(port);
      connection.send(`GET ${target} HTTP/1.1\r\nHost: log.test\r\nConnection: close\r\n\r\n`);
      return parseResponses(await connection.closed)[0]?.status ?? 0;
    }),
  );
}

/** The targets of the whole lines in the file (a worker may be in the middle of a write). */
function targetsIn(path: string): string[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, "utf8").split("\n");
  // What follows the last newline is a line still being written, or nothing.
  lines.pop();
  return lines.map((line) => JSON.parse(line).target as string);
}

const numbered = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `/${prefix}/${i}`);

test("workers append to one file; a real SIGUSR1 after a rename loses no line", async () => {
  const folder = await mkdtemp(join(dir, "rotate-"));
  const path = join(folder, "access.log");
  const server = await startBinary(["--workers", "2", "--access-log", path], folder);
  try {
    expect((await server.client("set", "log.test", "empty", "false", "code=204")).code).toBe(0);
    const before = numbered("before", 100);
    expect(new Set(await send(server.port, before))).toEqual(new Set([204]));
    // Each worker writes its batch within a tenth of a second.
    await waitFor(() => targetsIn(path).length === 100, "the first lines in the file");

    await rename(path, `${path}.1`);
    server.process.kill("SIGUSR1");
    await waitFor(
      () => server.log().split(`access log ${path} reopened`).length - 1 === 2,
      "both workers to reopen",
    );
    const after = numbered("after", 100);
    expect(new Set(await send(server.port, after))).toEqual(new Set([204]));
  } finally {
    expect(await server.stop()).toBe(0);
  }
  expect(server.log()).toContain("SIGUSR1: reopening the access log");
  expect(targetsIn(`${path}.1`).sort()).toEqual(numbered("before", 100).sort());
  expect(targetsIn(path).sort()).toEqual(numbered("after", 100).sort());
});

test("- writes the lines to stderr, whole, among the server's own lines", async () => {
  const folder = await mkdtemp(join(dir, "stderr-"));
  const server = await startBinary(["--workers", "2", "--access-log", "-"], folder);
  const targets = numbered("stderr", 50);
  try {
    expect(server.log()).toContain("access log to stderr");
    expect((await server.client("set", "log.test", "empty", "false", "code=204")).code).toBe(0);
    expect(new Set(await send(server.port, targets))).toEqual(new Set([204]));
    // SIGUSR1 has no file to reopen, and does not end the server.
    server.process.kill("SIGUSR1");
    await waitFor(() => server.log().includes("SIGUSR1: no access log file"), "the signal");
  } finally {
    expect(await server.stop()).toBe(0);
  }
  const lines = server
    .log()
    .split("\n")
    .filter((line) => line.startsWith("{"));
  expect(lines.map((line) => JSON.parse(line).target).sort()).toEqual(targets.sort());
});

test("an access log that cannot be opened stops the start with one line", async () => {
  const folder = await mkdtemp(join(dir, "missing-"));
  const path = join(folder, "no", "access.log");
  const server = startBinary(["--access-log", path], folder);
  const failure = await server.then(
    () => "started",
    (error: Error) => error.message,
  );
  expect(failure).toContain(`cannot open the access log ${path}`);
});
