/** Two instances on one etcd: a change made through either is served by both. */
import { describe, expect, test } from "bun:test";
import type { TestMantrid } from "../../support/mantrid.ts";
import { catchServerLog } from "../../support/stderr.ts";
import { waitFor } from "../../support/wait.ts";
import { call, empty, healthOf, statusFor, twoInstances, waitForStatus } from "./instances.ts";

const pair = twoInstances();
const logged = catchServerLog();

describe("rules shared through etcd", () => {
  test("a rule set on one instance serves on the other; deleted there, gone here", async () => {
    expect((await call(pair.a, "PUT", "/hostname/one.test/", empty(201))).status).toBe(200);
    // Acknowledged once committed and in this instance's table.
    expect(await statusFor(pair.a, "one.test")).toBe(201);
    await waitForStatus(pair.b, "one.test", 201);
    expect((await call(pair.b, "GET", "/hostname/one.test/")).body).toEqual(empty(201));

    expect((await call(pair.b, "DELETE", "/hostname/one.test/")).status).toBe(200);
    expect(await statusFor(pair.b, "one.test")).toBe(503);
    await waitForStatus(pair.a, "one.test", 503);
    expect((await call(pair.a, "GET", "/hostname/one.test/")).status).toBe(404);
  });

  test("the rule is one key holding the API's triple", async () => {
    expect((await call(pair.a, "PUT", "/hostname/key.test/", empty(202))).status).toBe(200);
    const value = await pair.etcd.ctl(
      "get",
      "--print-value-only",
      `${pair.prefix}hostname/key.test`,
    );
    expect(JSON.parse(value)).toEqual(empty(202));
  });

  test("changes made in turn through both instances end the same on both, in order", async () => {
    for (let i = 0; i < 20; i++) {
      const through = i % 2 === 0 ? pair.a : pair.b;
      expect((await call(through, "PUT", "/hostname/turns.test/", empty(200 + i))).status).toBe(
        200,
      );
    }
    await waitForStatus(pair.a, "turns.test", 219);
    await waitForStatus(pair.b, "turns.test", 219);
  });

  test("a whole rule set larger than one transaction replaces the rules everywhere", async () => {
    const set: Record<string, unknown[]> = {};
    for (let i = 0; i < 1000; i++) set[`bulk${i}.test`] = empty(200 + (i % 50));
    expect((await call(pair.a, "PUT", "/hostname/", set)).status).toBe(200);
    await waitFor(
      async () =>
        Object.keys((await call(pair.b, "GET", "/hostname/")).body as object).length === 1000,
      "the whole set on the other instance",
    );
    expect((await call(pair.b, "GET", "/hostname/")).body).toEqual(set);
    expect(await statusFor(pair.b, "bulk999.test")).toBe(249);
    // Rules that are not in the set are gone.
    expect(await statusFor(pair.b, "key.test")).toBe(503);

    // The same set again writes nothing: etcd's revision does not move.
    const before = (await healthOf(pair.a)).revision;
    expect((await call(pair.a, "PUT", "/hostname/", set)).status).toBe(200);
    expect((await healthOf(pair.a)).revision).toBe(before);

    // A smaller set: the rest is deleted in etcd too.
    expect((await call(pair.b, "PUT", "/hostname/", { "small.test": empty(203) })).status).toBe(
      200,
    );
    await waitForStatus(pair.a, "small.test", 203);
    expect(Object.keys((await call(pair.a, "GET", "/hostname/")).body as object)).toEqual([
      "small.test",
    ]);
    const keys = await pair.etcd.ctl("get", "--prefix", "--keys-only", `${pair.prefix}hostname/`);
    expect(keys.trim().split("\n").filter(Boolean)).toEqual([`${pair.prefix}hostname/small.test`]);
  });

  test("a large replacement racing changes on the other instance ends the same everywhere", async () => {
    const set: Record<string, unknown[]> = {};
    for (let i = 0; i < 1000; i++) set[`race${i}.test`] = empty(200 + (i % 50));
    const replacing = call(pair.a, "PUT", "/hostname/", set);
    for (let i = 0; i < 10; i++) {
      expect((await call(pair.b, "PUT", `/hostname/side${i}.test/`, empty(210))).status).toBe(200);
    }
    expect((await replacing).status).toBe(200);
    const inEtcd = async () => {
      const listed = await pair.etcd.ctl(
        "get",
        "--prefix",
        "--keys-only",
        `${pair.prefix}hostname/`,
      );
      return listed
        .split("\n")
        .filter(Boolean)
        .map((key) => key.slice(`${pair.prefix}hostname/`.length))
        .sort();
    };
    const keysOf = async (instance: TestMantrid) =>
      Object.keys((await call(instance, "GET", "/hostname/")).body as object).sort();
    await waitFor(async () => {
      const expected = await inEtcd();
      return (
        Bun.deepEquals(await keysOf(pair.a), expected) &&
        Bun.deepEquals(await keysOf(pair.b), expected)
      );
    }, "both instances to hold what etcd holds");
    expect((await inEtcd()).filter((key) => key.startsWith("race")).length).toBe(1000);
  });

  test("an empty rule set empties every instance", async () => {
    expect((await call(pair.a, "PUT", "/hostname/", {})).status).toBe(200);
    await waitFor(
      async () =>
        Object.keys((await call(pair.b, "GET", "/hostname/")).body as object).length === 0,
      "no rules on the other instance",
    );
  });

  test("a backend drained on one instance is drained on the other", async () => {
    const rule = ["proxy", { backends: ["127.0.0.1:9"] }, false];
    expect((await call(pair.a, "PUT", "/hostname/pool.test/", rule)).status).toBe(200);
    await waitFor(
      async () => (await call(pair.b, "GET", "/backend/127.0.0.1:9/")).status === 200,
      "b",
    );
    const drained = await call(pair.a, "PUT", "/backend/127.0.0.1:9/", { state: "drain" });
    expect(drained.status).toBe(200);
    expect(
      await pair.etcd.ctl("get", "--print-value-only", `${pair.prefix}backend/127.0.0.1:9`),
    ).toContain('"draining"');
    await waitFor(
      async () =>
        ((await call(pair.b, "GET", "/backend/127.0.0.1:9/")).body as { state: string }).state ===
        "draining",
      "the drain on the other instance",
    );
    expect((await call(pair.b, "PUT", "/backend/127.0.0.1:9/", { state: "enable" })).status).toBe(
      200,
    );
    await waitFor(
      async () =>
        ((await call(pair.a, "GET", "/backend/127.0.0.1:9/")).body as { state: string }).state !==
        "draining",
      "the enable on the first instance",
    );
    expect(await pair.etcd.ctl("get", "--keys-only", `${pair.prefix}backend/127.0.0.1:9`)).toBe("");
  });

  test("a value written into etcd by hand that the API would refuse is skipped", async () => {
    await pair.etcd.ctl(
      "put",
      `${pair.prefix}hostname/bad.test`,
      '["proxy", {"backends": []}, false]',
    );
    await pair.etcd.ctl("put", `${pair.prefix}hostname/notjson.test`, "{{{");
    await pair.etcd.ctl("put", `${pair.prefix}hostname/good.test`, JSON.stringify(empty(207)));
    await waitForStatus(pair.a, "good.test", 207);
    await waitForStatus(pair.b, "good.test", 207);
    expect(await statusFor(pair.a, "bad.test")).toBe(503);
    expect(await statusFor(pair.b, "notjson.test")).toBe(503);
    expect((await call(pair.a, "GET", "/hostname/bad.test/")).status).toBe(404);
    expect((await call(pair.b, "GET", "/hostname/notjson.test/")).status).toBe(404);
  });

  test("GET /health: etcd, ok, and the revision the table is at", async () => {
    const health = await healthOf(pair.a);
    expect(health.store).toBe("etcd");
    expect(health.state).toBe("ok");
    expect(Number.isNaN(Date.parse(health.since!))).toBe(false);
    const status = JSON.parse(await pair.etcd.ctl("endpoint", "status", "-w", "json")) as {
      Status: { header: { revision: number } };
    }[];
    await waitFor(
      async () => (await healthOf(pair.b)).revision === status[0]!.Status.header.revision,
      "the revision to match etcd's",
    );
  });

  test("verify: false is warned about once by each instance, as the rule becomes live there", async () => {
    const rule = ["proxy", { backends: ["https://127.0.0.1:9"], verify: false }, false];
    expect((await call(pair.a, "PUT", "/hostname/unchecked.test/", rule)).status).toBe(200);
    await waitFor(
      async () => (await call(pair.b, "GET", "/hostname/unchecked.test/")).status === 200,
      "the rule to reach the other instance",
    );
    const warned = () =>
      logged
        .join("")
        .split("\n")
        .filter((line) => line.includes("rule unchecked.test has verify: false"));
    await waitFor(() => warned().length >= 2, "a warning from each instance");
    expect(warned()).toHaveLength(2);
  });
});
