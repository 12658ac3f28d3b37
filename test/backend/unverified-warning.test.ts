/**
 * `verify: false` is said loudly once for each rule that becomes live: stored
 * rules at start-up, a rule set through the API, a whole set replaced (hostnames
 * sharing a rule share a line); refused changes say nothing.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startMantrid, type TestMantrid } from "../support/mantrid.ts";
import { catchServerLog } from "../support/stderr.ts";

const logged = catchServerLog();
const UNCHECKED = ["proxy", { backends: ["https://127.0.0.1:9"], verify: false }, false];
const CHECKED = ["proxy", { backends: ["https://127.0.0.1:9"] }, false];

let dir: string;
let mantrid: TestMantrid;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mantrid-unverified-"));
  mantrid = await startMantrid({}, dir);
});
afterAll(async () => {
  await mantrid.stop();
  await rm(dir, { recursive: true, force: true });
});

function warnings(): string[] {
  return logged
    .join("")
    .split("\n")
    .filter((line) => line.includes("has verify: false"));
}

function put(path: string, body: unknown): Promise<Response> {
  return fetch(`${mantrid.url}${path}`, { method: "PUT", body: JSON.stringify(body) });
}

test("a rule set through the API: one warning naming it; a checked rule, none", async () => {
  expect((await put("/hostname/one.test/", UNCHECKED)).status).toBe(200);
  expect(warnings()).toHaveLength(1);
  expect(warnings()[0]).toContain("warn");
  expect(warnings()[0]).toContain("rule one.test has verify: false");
  expect(warnings()[0]).toContain("NOT checked");
  expect((await put("/hostname/two.test/", CHECKED)).status).toBe(200);
  expect(warnings()).toHaveLength(1);
});

test("a refused rule or set says nothing and changes nothing", async () => {
  const bad = ["proxy", { backends: ["https://127.0.0.1:9"], verify: "maybe" }, false];
  expect((await put("/hostname/bad.test/", bad)).status).toBe(400);
  const set = { "x.test": UNCHECKED, "y.test": ["proxy", { backends: [] }, false] };
  expect((await put("/hostname/", set)).status).toBe(400);
  expect(warnings()).toEqual([]);
  expect((await fetch(`${mantrid.url}/hostname/x.test/`)).status).toBe(404);
});

test("a replaced set: one line per unchecked rule, hostnames sharing it counted", async () => {
  const set: Record<string, unknown> = { "other.test": CHECKED };
  for (let i = 0; i < 50; i++) set[`h${i}.test`] = UNCHECKED;
  set["lone.test"] = ["proxy", { backends: ["https://127.0.0.1:10"], verify: false }, false];
  expect((await put("/hostname/", set)).status).toBe(200);
  const lines = warnings();
  expect(lines).toHaveLength(2);
  expect(lines.some((line) => line.includes("rule h0.test (and 49 more) has verify: false"))).toBe(
    true,
  );
  expect(lines.some((line) => line.includes("rule lone.test has verify: false"))).toBe(true);
});

test("the stored rules at start-up: warned about as they become live", async () => {
  await mantrid.stop();
  mantrid = await startMantrid({}, dir);
  const lines = warnings();
  expect(lines.length).toBeGreaterThanOrEqual(1);
  const named = lines.join("\n");
  expect(named).toContain("lone.test");
  expect(named).not.toContain("other.test");
  // Every one of the 51 unchecked hostnames is covered by a line, each only once.
  let covered = 0;
  for (const line of lines) {
    const more = /\(and (\d+) more\)/.exec(line);
    covered += 1 + (more ? Number(more[1]) : 0);
  }
  expect(covered).toBe(51);
});
