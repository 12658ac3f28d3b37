import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { stateAfterRestart } from "../support/saved-state.ts";
import { call, type Harness, startHarness } from "./harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(() => h.close());

const EMPTY = ["empty", { code: 204 }, true];
const PROXY = [
  "proxy",
  {
    backends: [
      ["::1", 8000],
      ["b.internal", 80],
    ],
    attempts: 2,
    delay: 1,
  },
  false,
];

describe("GET /", () => {
  for (const path of ["/", ""]) {
    test(`names the service at "${path}"`, async () => {
      const reply = await call(h.url, "GET", path);
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ name: "mantrid", version: expect.any(String) });
    });
  }
});

describe("one rule", () => {
  for (const slash of ["/", ""]) {
    test(`PUT, GET and DELETE /hostname/<host>${slash}`, async () => {
      expect(await call(h.url, "PUT", `/hostname/example.com${slash}`, EMPTY)).toMatchObject({
        status: 200,
        body: { ok: true },
      });
      expect(await call(h.url, "GET", `/hostname/example.com${slash}`)).toMatchObject({
        status: 200,
        body: EMPTY,
      });
      expect(await call(h.url, "DELETE", `/hostname/example.com${slash}`)).toMatchObject({
        status: 200,
        body: { ok: true },
      });
      expect(await call(h.url, "GET", `/hostname/example.com${slash}`)).toEqual({
        status: 404,
        headers: expect.anything(),
        body: { error: "no rule for example.com" },
      });
    });
  }

  test("options given as strings are stored normalised", async () => {
    const rule = ["proxy", { backends: "[::1]:8000,b.internal:80", attempts: "2" }, false];
    expect((await call(h.url, "PUT", "/hostname/example.com/", rule)).status).toBe(200);
    expect((await call(h.url, "GET", "/hostname/example.com/")).body).toEqual(PROXY);
  });

  test("names are lower-cased and lose a trailing dot", async () => {
    await call(h.url, "PUT", "/hostname/WWW.Example.COM./", EMPTY);
    expect((await call(h.url, "GET", "/hostname/")).body).toEqual({ "www.example.com": EMPTY });
    expect((await call(h.url, "GET", "/hostname/www.example.com.")).status).toBe(200);
    expect((await call(h.url, "DELETE", "/hostname/Www.Example.Com/")).status).toBe(200);
    expect(h.registry.size).toBe(0);
  });

  test("a key with a protocol is reachable raw and percent-encoded", async () => {
    await call(h.url, "PUT", "/hostname/http://EP.io/", EMPTY);
    await call(h.url, "PUT", `/hostname/${encodeURIComponent("https://ep.io")}/`, PROXY);
    expect((await call(h.url, "GET", "/hostname/http%3A%2F%2Fep.io/")).body).toEqual(EMPTY);
    expect((await call(h.url, "GET", "/hostname/https://ep.io")).body).toEqual(PROXY);
    expect((await call(h.url, "GET", "/hostname/ep.io/")).status).toBe(404);
    expect((await call(h.url, "DELETE", "/hostname/http%3a%2f%2fep.io")).status).toBe(200);
    expect(Object.keys(h.registry.all())).toEqual(["https://ep.io"]);
  });

  test("DELETE of a missing rule is 404 and changes nothing", async () => {
    await call(h.url, "PUT", "/hostname/a.com/", EMPTY);
    expect(await call(h.url, "DELETE", "/hostname/b.com/")).toMatchObject({
      status: 404,
      body: { error: "no rule for b.com" },
    });
    expect((await call(h.url, "GET", "/hostname/")).body).toEqual({ "a.com": EMPTY });
  });

  test("an answered PUT is already in the state file", async () => {
    await call(h.url, "PUT", "/hostname/example.com/", EMPTY);
    const saved = await stateAfterRestart(h.stateFile);
    expect(saved.hosts.get("example.com")).toMatchObject({
      action: "empty",
      options: { code: 204 },
    });
  });

  test("an answered DELETE is already gone from the state file", async () => {
    await call(h.url, "PUT", "/hostname/a.com/", EMPTY);
    await call(h.url, "PUT", "/hostname/b.com/", EMPTY);
    await call(h.url, "DELETE", "/hostname/a.com/");
    expect([...(await stateAfterRestart(h.stateFile)).hosts.keys()]).toEqual(["b.com"]);
  });
});

describe("the whole rule set", () => {
  for (const path of ["/hostname/", "/hostname"]) {
    test(`GET and PUT ${path}`, async () => {
      await call(h.url, "PUT", "/hostname/old.com/", EMPTY);
      const rules = { "new.com": EMPTY, "Other.com.": ["static", { type: "test" }, true] };
      expect(await call(h.url, "PUT", path, rules)).toMatchObject({
        status: 200,
        body: { ok: true },
      });
      const expected = { "new.com": EMPTY, "other.com": ["static", { type: "test" }, true] };
      expect((await call(h.url, "GET", path)).body).toEqual(expected);
      expect([...(await stateAfterRestart(h.stateFile)).hosts.keys()].sort()).toEqual([
        "new.com",
        "other.com",
      ]);
    });
  }

  test("an empty object removes every rule", async () => {
    await call(h.url, "PUT", "/hostname/a.com/", EMPTY);
    expect((await call(h.url, "PUT", "/hostname/", {})).status).toBe(200);
    expect((await call(h.url, "GET", "/hostname/")).body).toEqual({});
  });

  test("one bad rule rejects the whole set, at its path", async () => {
    await call(h.url, "PUT", "/hostname/a.com/", EMPTY);
    const rules = { "ok.com": EMPTY, "example.com": ["proxy", { backends: [] }, true] };
    const reply = await call(h.url, "PUT", "/hostname/", rules);
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({
      error:
        "invalid rule set at example.com/options/backends: backends must name at least one backend",
      issues: [
        {
          path: ["example.com", "options", "backends"],
          message: "backends must name at least one backend",
        },
      ],
    });
    expect((await call(h.url, "GET", "/hostname/")).body).toEqual({ "a.com": EMPTY });
  });

  test("an array is not a rule set", async () => {
    const reply = await call(h.url, "PUT", "/hostname/", [EMPTY]);
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ issues: [{ path: [] }] });
    expect(h.registry.size).toBe(0);
  });
});
