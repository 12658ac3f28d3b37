/**
 * The access log of a real server in this process, over real sockets and a
 * real backend: every request once, through pipelining, keep-alive, a
 * logrotate reopen and a full disk; management requests never.
 */
import { afterAll, beforeAll, describe, expect, spyOn, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { namedBackend, type TestBackend } from "../support/backend.ts";
import { startMantrid, type TestMantrid } from "../support/mantrid.ts";
import { connect, parseResponses } from "../support/wire.ts";

let backend: TestBackend;
let dir: string;
beforeAll(async () => {
  backend = await namedBackend("b");
  dir = await mkdtemp(join(tmpdir(), "mantrid-access-log-"));
});
afterAll(async () => {
  await backend.close();
  await rm(dir, { recursive: true, force: true });
});

const HOST = "app.test";

let logs = 0;
/** A server whose access log goes to `path` (a new file in the test's folder by default). */
async function withLog(path?: string): Promise<{ mantrid: TestMantrid; path: string }> {
  const logPath = path ?? join(dir, `access-${++logs}.log`);
  const server = await startMantrid({ accessLog: logPath });
  await server.set(HOST, ["proxy", { backends: [`127.0.0.1:${backend.port}`] }, false]);
  return { mantrid: server, path: logPath };
}

function countOf(buffer: Buffer, needle: string): number {
  let count = 0;
  for (let at = buffer.indexOf(needle); at >= 0; at = buffer.indexOf(needle, at + 1)) count++;
  return count;
}

/**
 * Sends `targets` over one keep-alive connection, `depth` pipelined at a time,
 * and resolves with the statuses once every answer is in. `answered` is told of each round.
 */
async function pipeline(
  port: number,
  targets: string[],
  depth: number,
  answered: (count: number) => void = () => {},
): Promise<number[]> {
  const connection = await connect(port);
  let sent = 0;
  while (sent < targets.length) {
    const round = targets.slice(sent, sent + depth);
    connection.send(
      round.map((target) => `GET ${target} HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`).join(""),
    );
    sent += round.length;
    const expected = sent;
    await connection.until((received) => countOf(received, "\r\n\r\n") >= expected);
    answered(round.length);
  }
  const statuses = parseResponses(connection.received()).map((response) => response.status);
  connection.destroy();
  return statuses;
}

/** `connections` connections of `each` unique targets each. */
function targetSets(connections: number, each: number, prefix: string): string[][] {
  return Array.from({ length: connections }, (_, c) =>
    Array.from({ length: each }, (_, i) => `/${prefix}/${c}/${i}?q=${c * each + i}`),
  );
}

async function logLines(path: string): Promise<Record<string, unknown>[]> {
  if (!existsSync(path)) return [];
  const text = await readFile(path, "utf8");
  expect(text === "" || text.endsWith("\n")).toBe(true);
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line));
}

/** Every target once: no line lost, none written twice. */
function expectEachOnce(lines: Record<string, unknown>[], sets: string[][]): void {
  const expected = sets.flat();
  const seen = lines.map((line) => line.target as string);
  expect(seen.length).toBe(expected.length);
  expect(new Set(seen).size).toBe(seen.length);
  expect([...seen].sort()).toEqual([...expected].sort());
}

// The heavier tests take a few seconds, more on a loaded machine: they get 30 s each.
test("10,000 requests, pipelined over keep-alive: one line each, none lost, none twice", async () => {
  const { mantrid, path } = await withLog();
  const sets = targetSets(20, 500, "load");
  try {
    const statuses = await Promise.all(sets.map((targets) => pipeline(mantrid.port, targets, 50)));
    expect(statuses.flat().filter((status) => status === 200).length).toBe(10_000);
  } finally {
    await mantrid.stop();
  }
  const lines = await logLines(path);
  expectEachOnce(lines, sets);
  const first = lines.find((line) => line.target === "/load/0/0?q=0")!;
  expect(first).toMatchObject({
    client: "127.0.0.1",
    host: HOST,
    method: "GET",
    status: 200,
    completed: true,
    bytes_in: `GET /load/0/0?q=0 HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`.length,
    rule: HOST,
    backend: `127.0.0.1:${backend.port}`,
    attempts: 1,
    held_ms: 0,
  });
  expect(first.bytes_out as number).toBeGreaterThan(0);
  expect(first.head_ms as number).toBeGreaterThanOrEqual(0);
  expect(first.total_ms as number).toBeGreaterThanOrEqual(first.head_ms as number);
  expect(Number.isNaN(Date.parse(first.time as string))).toBe(false);
}, 30_000);

test("reopened mid-traffic after a rename (logrotate): every line in one file or the other", async () => {
  const { mantrid, path } = await withLog();
  const sets = targetSets(10, 300, "rotate");
  let answered = 0;
  let rotated: Promise<void> | null = null;
  const rotate = async () => {
    await rename(path, `${path}.1`);
    // What the SIGUSR1 handler calls.
    await mantrid.running.reopenLogs();
  };
  try {
    const statuses = await Promise.all(
      sets.map((targets) =>
        pipeline(mantrid.port, targets, 30, (count) => {
          answered += count;
          if (answered >= 1000 && rotated === null) rotated = rotate();
        }),
      ),
    );
    await rotated;
    expect(statuses.flat().filter((status) => status === 200).length).toBe(3000);
  } finally {
    await mantrid.stop();
  }
  const old = await logLines(`${path}.1`);
  const fresh = await logLines(path);
  expect(old.length).toBeGreaterThan(0);
  expect(fresh.length).toBeGreaterThan(0);
  expectEachOnce([...old, ...fresh], sets);
}, 30_000);

test.skipIf(!existsSync("/dev/full"))(
  "a full disk (/dev/full): every request is answered, every line dropped and counted",
  async () => {
    const logged: string[] = [];
    const spy = spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      logged.push(String(chunk));
      return true;
    });
    try {
      const { mantrid } = await withLog("/dev/full");
      const sets = targetSets(10, 200, "full");
      try {
        const statuses = await Promise.all(
          sets.map((targets) => pipeline(mantrid.port, targets, 50)),
        );
        expect(statuses.flat().filter((status) => status === 200).length).toBe(2000);
      } finally {
        await mantrid.stop();
      }
    } finally {
      spy.mockRestore();
    }
    const text = logged.join("");
    expect(
      text.match(/access log \/dev\/full: cannot write \(ENOSPC[^\n]*dropping lines/g),
    ).toHaveLength(1);
    expect(text).toContain("access log /dev/full: 2000 lines dropped in all");
  },
  30_000,
);

describe("what is logged", () => {
  let mantrid: TestMantrid;
  let path: string;
  let lines: Record<string, unknown>[];
  beforeAll(async () => {
    ({ mantrid, path } = await withLog());
    try {
      // Management requests, answered or refused: none is traffic.
      await fetch(`${mantrid.url}/hostname/`).then((r) => r.arrayBuffer());
      await fetch(`${mantrid.url}/stats/`).then((r) => r.arrayBuffer());
      await fetch(`${mantrid.url}/nothing-here`).then((r) => r.arrayBuffer());
      await mantrid.set("static.test", ["static", { type: "test" }, false]);
      for (const [host, target] of [
        [HOST, "/proxied"],
        ["static.test", "/page"],
        ["nobody.test", "/unknown"],
      ]) {
        const response = await fetch(`http://127.0.0.1:${mantrid.port}${target}`, {
          method: "POST",
          headers: { Host: host!, "Content-Type": "text/plain" },
          body: "hello",
        });
        await response.arrayBuffer();
      }
    } finally {
      await mantrid.stop();
    }
    lines = await logLines(path);
  });

  test("traffic only: management requests are not there", () => {
    expect(lines.map((line) => line.target)).toEqual(["/proxied", "/page", "/unknown"]);
  });

  test("a static page: its rule, no backend, no head time", () => {
    expect(lines[1]).toMatchObject({
      host: "static.test",
      method: "POST",
      status: 200,
      rule: "static.test",
      backend: null,
      attempts: 0,
      head_ms: null,
    });
  });

  test("no rule matched: rule null", () => {
    expect(lines[2]).toMatchObject({ host: "nobody.test", rule: null, backend: null });
  });

  test("bytes in count the body", () => {
    expect(lines[0]!.bytes_in as number).toBeGreaterThan("hello".length);
    expect(lines[0]).toMatchObject({ method: "POST", backend: `127.0.0.1:${backend.port}` });
  });
});
