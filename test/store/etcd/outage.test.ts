/**
 * etcd out of reach: every instance goes on serving the table it has, a
 * write is refused (503) and changes nothing, a restarted instance serves
 * from its state file; once etcd is back, writes work and reach everyone.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startEtcd, type TestEtcd } from "../../support/etcd.ts";
import type { TestMantrid } from "../../support/mantrid.ts";
import {
  call,
  empty,
  freshPrefix,
  healthOf,
  removeFolders,
  startShared,
  statusFor,
  waitForHealth,
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

describe("etcd stopped, then back", () => {
  test("before: a rule and a drained backend, on both", async () => {
    expect((await call(a, "PUT", "/hostname/kept.test/", empty(201))).status).toBe(200);
    const pool = ["proxy", { backends: ["127.0.0.1:9"] }, false];
    expect((await call(a, "PUT", "/hostname/pool.test/", pool)).status).toBe(200);
    expect((await call(a, "PUT", "/backend/127.0.0.1:9/", { state: "drain" })).status).toBe(200);
    await waitForStatus(b, "kept.test", 201);
  });

  test("while it is down both serve, /health says unreachable, and writes change nothing", async () => {
    const revision = (await healthOf(a)).revision;
    await etcd.members[0]!.stop("SIGKILL");
    await waitForHealth(a, "unreachable");
    await waitForHealth(b, "unreachable");
    const health = await healthOf(a);
    expect(health).toMatchObject({ store: "etcd", state: "unreachable", revision });
    expect(Date.parse(health.since!)).toBeGreaterThan(Date.now() - 60_000);

    expect(await statusFor(a, "kept.test")).toBe(201);
    expect(await statusFor(b, "kept.test")).toBe(201);

    const put = await call(a, "PUT", "/hostname/new.test/", empty(202));
    expect(put.status).toBe(503);
    expect((put.body as { error: string }).error).toMatch(/^etcd is unreachable .*nothing changed/);
    expect((await call(a, "GET", "/hostname/new.test/")).status).toBe(404);
    expect(await statusFor(a, "new.test")).toBe(503);

    expect((await call(b, "DELETE", "/hostname/kept.test/")).status).toBe(503);
    expect((await call(b, "GET", "/hostname/kept.test/")).body).toEqual(empty(201));
    expect((await call(b, "PUT", "/hostname/", { "only.test": empty(203) })).status).toBe(503);
    expect(Object.keys((await call(b, "GET", "/hostname/")).body as object).sort()).toEqual([
      "kept.test",
      "pool.test",
    ]);
    expect((await call(a, "PUT", "/backend/127.0.0.1:9/", { state: "enable" })).status).toBe(503);
    const backend = await call(a, "GET", "/backend/127.0.0.1:9/");
    expect((backend.body as { state: string }).state).toBe("draining");
  });

  test("an instance restarted while etcd is down serves from its state file", async () => {
    const dir = b.dir;
    await b.stop();
    b = await startShared(etcd, prefix, { dir });
    expect(await statusFor(b, "kept.test")).toBe(201);
    expect((await call(b, "GET", "/backend/127.0.0.1:9/")).body).toMatchObject({
      state: "draining",
    });
    expect(await healthOf(b)).toMatchObject({ state: "unreachable", revision: 0 });
  });

  test("once it is back: /health ok, writes work and reach the other instance", async () => {
    await etcd.members[0]!.start();
    await waitForHealth(a, "ok");
    await waitForHealth(b, "ok");
    // What was refused was never written.
    expect(await etcd.ctl("get", "--keys-only", `${prefix}hostname/new.test`)).toBe("");
    expect(await statusFor(b, "new.test")).toBe(503);

    expect((await call(b, "PUT", "/hostname/after.test/", empty(204))).status).toBe(200);
    await waitForStatus(a, "after.test", 204);
    expect((await call(a, "DELETE", "/hostname/kept.test/")).status).toBe(200);
    await waitForStatus(b, "kept.test", 503);
    const revision = (await healthOf(a)).revision!;
    expect(revision).toBeGreaterThan(0);
    expect((await healthOf(b)).revision).toBeGreaterThan(0);
  });
});
