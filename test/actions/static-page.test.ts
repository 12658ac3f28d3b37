/**
 * Static pages against the real server: a rule whose page is missing is refused
 * when set; a stored one whose page has gone since starts, answers 500 and says
 * so in the log once; a refused backend gets the 502 text.
 */
import { afterAll, beforeAll, describe, expect, spyOn, test } from "bun:test";
import { mkdir, mkdtemp, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../support/backend.ts";
import { startMantrid, type TestMantrid } from "../support/mantrid.ts";
import { connect, parseResponses } from "../support/wire.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mantrid-static-page-"));
  await mkdir(join(dir, "static"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function get(mantrid: TestMantrid, host: string) {
  const connection = await connect(mantrid.port);
  connection.send(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  return parseResponses(await connection.closed)[0]!;
}

function put(mantrid: TestMantrid, host: string, rule: unknown[]) {
  return fetch(`${mantrid.url}/hostname/${host}/`, { method: "PUT", body: JSON.stringify(rule) });
}

/** Runs `body`, returning what it logged on stderr with what it resolved to. */
async function logging<T>(body: () => Promise<T>): Promise<[T, string[]]> {
  const lines: string[] = [];
  const stderr = spyOn(process.stderr, "write").mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    return [await body(), lines];
  } finally {
    stderr.mockRestore();
  }
}

describe("a static rule whose page is missing", () => {
  test("is refused when set: 400, the state file and the answers as they were", async () => {
    const mantrid = await startMantrid({}, dir);
    try {
      await mantrid.set("kept.test", ["empty", { code: 204 }, false]);
      const stored = await readFile(mantrid.config.stateFile);
      const response = await put(mantrid, "kept.test", ["static", { type: "nosuchpage" }, false]);
      expect(response.status).toBe(400);
      const body = (await response.json()) as { issues: { path: string[]; message: string }[] };
      expect(body.issues[0]!.path).toEqual(["options", "type"]);
      expect(body.issues[0]!.message).toContain(join(dir, "static", "nosuchpage.http"));
      expect(await readFile(mantrid.config.stateFile)).toEqual(stored);
      expect((await get(mantrid, "kept.test")).status).toBe(204);
    } finally {
      await mantrid.stop();
    }
  });

  test("stored, with its page gone since: start-up goes on, 500, logged once", async () => {
    const page = join(dir, "static", "promo.http");
    await writeFile(page, "HTTP/1.1 200 OK\n\nsale\n");
    const first = await startMantrid({}, dir);
    try {
      await first.set("promo.test", ["static", { type: "promo" }, true]);
      expect((await get(first, "promo.test")).body.toString()).toBe("sale\n");
    } finally {
      await first.stop();
    }
    await unlink(page);

    const [mantrid, atStart] = await logging(() => startMantrid({}, dir));
    try {
      const warnings = atStart.filter((line) => line.includes("promo"));
      expect(warnings).toHaveLength(2);
      expect(warnings[0]).toContain(
        `the stored rule for promo.test cannot work: no page "promo": ${page} does not exist`,
      );
      expect(warnings[1]).toContain(`no page "promo": ${page} does not exist`);
      expect(warnings[1]).toContain('requests for page "promo" are answered 500');

      const [answers, later] = await logging(async () => [
        await get(mantrid, "promo.test"),
        await get(mantrid, "www.promo.test"),
      ]);
      for (const answer of answers) {
        expect(answer.status).toBe(500);
        expect(answer.body.toString()).toContain("promo.http");
      }
      expect(later).toEqual([]);
    } finally {
      await mantrid.stop();
    }
  });
});

describe("the timeout page", () => {
  test("a refused backend: 502, the server could not be reached", async () => {
    const mantrid = await startMantrid();
    try {
      const closed = await freePort();
      await mantrid.set("dead.test", ["proxy", { backends: [`127.0.0.1:${closed}`] }, false]);
      const response = await get(mantrid, "dead.test");
      expect(response.status).toBe(502);
      expect(response.body.toString()).toContain("could not be reached");
    } finally {
      await mantrid.stop();
    }
  });
});
