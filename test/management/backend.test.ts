/**
 * `/backend/`: the backend addresses the proxy rules name, with their state and
 * the rules that name them; drain, disable and enable, kept in the state file.
 * A real server and real backends.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { namedBackend, type TestBackend } from "../support/backend.ts";
import { startMantrid, type TestMantrid } from "../support/mantrid.ts";
import { call } from "./harness.ts";

let a: TestBackend;
let b: TestBackend;
let A: string;
let B: string;
beforeAll(async () => {
  a = await namedBackend("a");
  b = await namedBackend("b");
  A = `127.0.0.1:${a.port}`;
  B = `127.0.0.1:${b.port}`;
});
afterAll(async () => {
  await a.close();
  await b.close();
});

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const path = (address: string) => `/backend/${encodeURIComponent(address)}/`;

/** Rules naming A and B in both stored forms, one IPv6 address nothing listens on, and a non-proxy rule. */
async function setRules(mantrid: TestMantrid): Promise<void> {
  await mantrid.set("both.test", ["proxy", { backends: [A, B], policy: "round_robin" }, false]);
  await mantrid.set("http://b.test", ["proxy", { backends: [{ address: B, weight: 2 }] }, false]);
  await mantrid.set("six.test", ["proxy", { backends: ["[::1]:9"] }, false]);
  await mantrid.set("static.test", ["static", { type: "test" }, false]);
}

/** Which backend answered each of `count` requests to `host`. */
async function answers(mantrid: TestMantrid, host: string, count: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const response = await fetch(`http://127.0.0.1:${mantrid.port}/`, { headers: { Host: host } });
    names.push(await response.text());
  }
  return names;
}

describe("one server", () => {
  let mantrid: TestMantrid;
  beforeEach(async () => {
    mantrid = await startMantrid();
    await setRules(mantrid);
  });
  afterEach(() => mantrid.stop());

  test("GET /backend/ lists every address the proxy rules name, with those rules", async () => {
    for (const slash of ["/", ""]) {
      const reply = await call(mantrid.url, "GET", `/backend${slash}`);
      expect(reply.status).toBe(200);
      const body = reply.body as Record<string, Record<string, unknown>>;
      expect(Object.keys(body).sort()).toEqual([A, B, "[::1]:9"].sort());
      expect(body[A]).toEqual({
        state: "up",
        since: expect.stringMatching(ISO),
        check: null,
        active: 0,
        requests: 0,
        failures: 0,
        rules: ["both.test"],
        rates: expect.any(Object),
      });
      expect(body[B]!.rules).toEqual(["both.test", "http://b.test"]);
      expect(body["[::1]:9"]!.rules).toEqual(["six.test"]);
    }
  });

  test("GET /backend/<address>/ gives one, counting the requests it carried", async () => {
    expect(await answers(mantrid, "both.test", 4)).toEqual(["a", "b", "a", "b"]);
    const reply = await call(mantrid.url, "GET", path(A));
    expect(reply).toMatchObject({
      status: 200,
      body: { state: "up", active: 0, requests: 2, failures: 0, rules: ["both.test"] },
    });
    // Raw or percent-encoded, with or without the slash; IPv6 in brackets (rates may move between).
    const { rates: _, ...same } = reply.body as Record<string, unknown>;
    expect((await call(mantrid.url, "GET", `/backend/${A}`)).body).toEqual({
      ...same,
      rates: expect.any(Object),
    });
    const six = await call(mantrid.url, "GET", "/backend/%5B%3A%3A1%5D%3A9/");
    expect(six).toMatchObject({ status: 200, body: { state: "up", rules: ["six.test"] } });
  });

  test("an address no rule names is a 404; one that is no address a 400", async () => {
    const unknown = await call(mantrid.url, "GET", path("127.0.0.1:1"));
    expect(unknown).toMatchObject({
      status: 404,
      body: { error: "no proxy rule names the backend 127.0.0.1:1" },
    });
    expect((await call(mantrid.url, "PUT", path("127.0.0.1:1"), { state: "drain" })).status).toBe(
      404,
    );
    const bad = await call(mantrid.url, "GET", "/backend/nonsense/");
    expect(bad).toMatchObject({ status: 400, body: { issues: [{ path: ["address"] }] } });
    // Once its last rule is gone, an address is gone from the list.
    await fetch(`${mantrid.url}/hostname/six.test/`, { method: "DELETE" });
    expect((await call(mantrid.url, "GET", "/backend/%5B%3A%3A1%5D%3A9/")).status).toBe(404);
  });

  test("PUT drains, disables and enables; each answer says the state and what is in flight", async () => {
    const put = (state: string) => call(mantrid.url, "PUT", path(A), { state });
    const state = async () =>
      ((await call(mantrid.url, "GET", path(A))).body as { state: string }).state;

    expect(await put("drain")).toMatchObject({
      status: 200,
      body: { state: "draining", in_flight: 0 },
    });
    expect(await state()).toBe("draining");
    expect(new Set(await answers(mantrid, "both.test", 6))).toEqual(new Set(["b"]));

    expect((await put("disable")).body).toEqual({ state: "disabled", in_flight: 0 });
    expect(await state()).toBe("disabled");
    expect(new Set(await answers(mantrid, "both.test", 6))).toEqual(new Set(["b"]));

    expect((await put("enable")).body).toEqual({ state: "up", in_flight: 0 });
    expect(await state()).toBe("up");
    expect(new Set(await answers(mantrid, "both.test", 6))).toEqual(new Set(["a", "b"]));
  });

  test("a bad body is a 400 naming the field, and nothing changes", async () => {
    await call(mantrid.url, "PUT", path(B), { state: "drain" });
    const cases: [unknown, string[]][] = [
      [{ state: "pause" }, ["state"]],
      [{}, ["state"]],
      [{ state: "enable", now: true }, ["now"]],
      ["not json", []],
    ];
    for (const [body, at] of cases) {
      const reply = await call(mantrid.url, "PUT", path(B), body);
      expect(reply.status).toBe(400);
      const answer = reply.body as { error: string; issues: { path: string[] }[] };
      expect(answer.issues[0]!.path).toEqual(at);
      if (at.length > 0) expect(answer.error).toContain(`at ${at[0]}`);
    }
    expect((await call(mantrid.url, "GET", path(B))).body).toMatchObject({ state: "draining" });
  });

  test("other methods are refused with Allow", async () => {
    const reply = await call(mantrid.url, "DELETE", path(A));
    expect(reply.status).toBe(405);
    expect(reply.headers.get("allow")).toBe("GET, HEAD, PUT");
    expect((await call(mantrid.url, "PUT", "/backend/", {})).status).toBe(405);
  });
});

describe("across restarts", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "mantrid-backend-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const stateOf = async (mantrid: TestMantrid, address: string) =>
    ((await call(mantrid.url, "GET", path(address))).body as { state: string }).state;

  test("a drain is in the change log before the answer, and applies again after a restart", async () => {
    let mantrid = await startMantrid({}, dir);
    await setRules(mantrid);
    await call(mantrid.url, "PUT", path(A), { state: "drain" });
    await call(mantrid.url, "PUT", path("[::1]:9"), { state: "disable" });
    const file = mantrid.config.stateFile;
    const log = `${file}.${JSON.parse(await readFile(file, "utf8")).log}.log`;
    const entries = (await readFile(log, "utf8")).split("\n").filter(Boolean);
    expect(entries.at(-2)).toContain(`{"backend":"${A}","admin":"draining"}`);
    expect(entries.at(-1)).toContain('{"backend":"[::1]:9","admin":"disabled"}');
    await mantrid.stop();

    mantrid = await startMantrid({}, dir);
    try {
      expect(await stateOf(mantrid, A)).toBe("draining");
      expect(await stateOf(mantrid, "[::1]:9")).toBe("disabled");
      expect(await stateOf(mantrid, B)).toBe("up");
      // Applied where requests are served, before the first one.
      expect(new Set(await answers(mantrid, "both.test", 6))).toEqual(new Set(["b"]));
    } finally {
      await mantrid.stop();
    }
  });

  test('a new snapshot keeps the states, an enable removes one; with none, no "backends"', async () => {
    let mantrid = await startMantrid({}, dir);
    await setRules(mantrid);
    const before = JSON.parse(await readFile(mantrid.config.stateFile, "utf8"));
    expect(before.backends).toBeUndefined();
    await call(mantrid.url, "PUT", path(A), { state: "disable" });
    await call(mantrid.url, "PUT", path(B), { state: "drain" });
    await call(mantrid.url, "PUT", path(B), { state: "enable" });
    // A whole new rule set is written as a new snapshot (a compaction).
    const rules = (await call(mantrid.url, "GET", "/hostname/")).body;
    expect((await call(mantrid.url, "PUT", "/hostname/", rules)).status).toBe(200);
    const snapshot = JSON.parse(await readFile(mantrid.config.stateFile, "utf8"));
    expect(snapshot.backends).toEqual({ [A]: "disabled" });
    await mantrid.stop();

    mantrid = await startMantrid({}, dir);
    try {
      expect(await stateOf(mantrid, A)).toBe("disabled");
      expect(await stateOf(mantrid, B)).toBe("up");
      expect(new Set(await answers(mantrid, "both.test", 4))).toEqual(new Set(["b"]));
    } finally {
      await mantrid.stop();
    }
  });
});
