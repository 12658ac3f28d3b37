/** Two instances on one etcd: a change made through either is served by both. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startEtcd, type TestEtcd } from "../../support/etcd.ts";
import type { TestMantrid } from "../../support/mantrid.ts";
import { waitFor } from "../../support/wait.ts";
import {
  call,
  empty,
  freshPrefix,
  healthOf,
  removeFolders,
  startShared,
  statusFor,
  waitForStatus,
} from "./instances.ts";

let etcd: TestEtcd;
let prefix: string;
let a: TestMantrid;
let b: TestMantrid;

beforeAll(async () => {
  etcd = await startEtcd();
  prefix = freshPrefix();
  a = await startShared(etcd, prefix);
  b = await startShared(etcd, prefix);
});

afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await etcd?.close();
  await removeFolders();
});

describe("rules shared through etcd", () => {
  test("a rule set on one instance serves on the other; deleted there, gone here", async () => {
    expect((await call(a, "PUT", "/hostname/one.test/", empty(201))).status).toBe(200);
    // Acknowledged once committed and in this instance's table.
    expect(await statusFor(a, "one.test")).toBe(201);
    await waitForStatus(b, "one.test", 201);
    expect((await call(b, "GET", "/hostname/one.test/")).body).toEqual(empty(201));

    expect((await call(b, "DELETE", "/hostname/one.test/")).status).toBe(200);
    expect(await statusFor(b, "one.test")).toBe(503);
    await waitForStatus(a, "one.test", 503);
    expect((await call(a, "GET", "/hostname/one.test/")).status).toBe(404);
  });

  test("the rule is one key holding the API's triple", async () => {
    expect((await call(a, "PUT", "/hostname/key.test/", empty(202))).status).toBe(200);
    const value = await etcd.ctl("get", "--print-value-only", `${prefix}hostname/key.test`);
    expect(JSON.parse(value)).toEqual(empty(202));
  });

  test("changes made in turn through both instances end the same on both, in order", async () => {
    for (let i = 0; i < 20; i++) {
      const through = i % 2 === 0 ? a : b;
      expect((await call(through, "PUT", "/hostname/turns.test/", empty(200 + i))).status).toBe(
        200,
      );
    }
    await waitForStatus(a, "turns.test", 219);
    await waitForStatus(b, "turns.test", 219);
  });

  test("a whole rule set larger than one transaction replaces the rules everywhere", async () => {
    const set: Record<string, unknown[]> = {};
    for (let i = 0; i < 1000; i++) set[`bulk${i}.test`] = empty(200 + (i % 50));
    expect((await call(a, "PUT", "/hostname/", set)).status).toBe(200);
    await waitFor(
      async () => Object.keys((await call(b, "GET", "/hostname/")).body as object).length === 1000,
      "the whole set on the other instance",
    );
    expect((await call(b, "GET", "/hostname/")).body).toEqual(set);
    expect(await statusFor(b, "bulk999.test")).toBe(249);
    // Rules that are not in the set are gone.
    expect(await statusFor(b, "key.test")).toBe(503);

    // The same set again writes nothing: etcd's revision does not move.
    const before = (await healthOf(a)).revision;
    expect((await call(a, "PUT", "/hostname/", set)).status).toBe(200);
    expect((await healthOf(a)).revision).toBe(before);

    // A smaller set: the rest is deleted in etcd too.
    expect((await call(b, "PUT", "/hostname/", { "small.test": empty(203) })).status).toBe(200);
    await waitForStatus(a, "small.test", 203);
    expect(Object.keys((await call(a, "GET", "/hostname/")).body as object)).toEqual([
      "small.test",
    ]);
    const keys = await etcd.ctl("get", "--prefix", "--keys-only", `${prefix}hostname/`);
    expect(keys.trim().split("\n").filter(Boolean)).toEqual([`${prefix}hostname/small.test`]);
  });

  test("a large replacement racing changes on the other instance ends the same everywhere", async () => {
    const set: Record<string, unknown[]> = {};
    for (let i = 0; i < 1000; i++) set[`race${i}.test`] = empty(200 + (i % 50));
    const replacing = call(a, "PUT", "/hostname/", set);
    for (let i = 0; i < 10; i++) {
      expect((await call(b, "PUT", `/hostname/side${i}.test/`, empty(210))).status).toBe(200);
    }
    expect((await replacing).status).toBe(200);
    const inEtcd = async () => {
      const listed = await etcd.ctl("get", "--prefix", "--keys-only", `${prefix}hostname/`);
      return listed
        .split("\n")
        .filter(Boolean)
        .map((key) => key.slice(`${prefix}hostname/`.length))
        .sort();
    };
    const keysOf = async (instance: TestMantrid) =>
      Object.keys((await call(instance, "GET", "/hostname/")).body as object).sort();
    await waitFor(async () => {
      const expected = await inEtcd();
      return Bun.deepEquals(await keysOf(a), expected) && Bun.deepEquals(await keysOf(b), expected);
    }, "both instances to hold what etcd holds");
    expect((await inEtcd()).filter((key) => key.startsWith("race")).length).toBe(1000);
  });

  test("an empty rule set empties every instance", async () => {
    expect((await call(a, "PUT", "/hostname/", {})).status).toBe(200);
    await waitFor(
      async () => Object.keys((await call(b, "GET", "/hostname/")).body as object).length === 0,
      "no rules on the other instance",
    );
  });

  test("a backend drained on one instance is drained on the other", async () => {
    const rule = ["proxy", { backends: ["127.0.0.1:9"] }, false];
    expect((await call(a, "PUT", "/hostname/pool.test/", rule)).status).toBe(200);
    await waitFor(async () => (await call(b, "GET", "/backend/127.0.0.1:9/")).status === 200, "b");
    const drained = await call(a, "PUT", "/backend/127.0.0.1:9/", { state: "drain" });
    expect(drained.status).toBe(200);
    expect(await etcd.ctl("get", "--print-value-only", `${prefix}backend/127.0.0.1:9`)).toContain(
      '"draining"',
    );
    await waitFor(
      async () =>
        ((await call(b, "GET", "/backend/127.0.0.1:9/")).body as { state: string }).state ===
        "draining",
      "the drain on the other instance",
    );
    expect((await call(b, "PUT", "/backend/127.0.0.1:9/", { state: "enable" })).status).toBe(200);
    await waitFor(
      async () =>
        ((await call(a, "GET", "/backend/127.0.0.1:9/")).body as { state: string }).state !==
        "draining",
      "the enable on the first instance",
    );
    expect(await etcd.ctl("get", "--keys-only", `${prefix}backend/127.0.0.1:9`)).toBe("");
  });

  test("a value written into etcd by hand that the API would refuse is skipped", async () => {
    await etcd.ctl("put", `${prefix}hostname/bad.test`, '["proxy", {"backends": []}, false]');
    await etcd.ctl("put", `${prefix}hostname/notjson.test`, "{{{");
    await etcd.ctl("put", `${prefix}hostname/good.test`, JSON.stringify(empty(207)));
    await waitForStatus(a, "good.test", 207);
    await waitForStatus(b, "good.test", 207);
    expect(await statusFor(a, "bad.test")).toBe(503);
    expect(await statusFor(b, "notjson.test")).toBe(503);
    expect((await call(a, "GET", "/hostname/bad.test/")).status).toBe(404);
    expect((await call(b, "GET", "/hostname/notjson.test/")).status).toBe(404);
  });

  test("GET /health: etcd, ok, and the revision the table is at", async () => {
    const health = await healthOf(a);
    expect(health.store).toBe("etcd");
    expect(health.state).toBe("ok");
    expect(Number.isNaN(Date.parse(health.since!))).toBe(false);
    const status = JSON.parse(await etcd.ctl("endpoint", "status", "-w", "json")) as {
      Status: { header: { revision: number } };
    }[];
    await waitFor(
      async () => (await healthOf(b)).revision === status[0]!.Status.header.revision,
      "the revision to match etcd's",
    );
  });
});
