/**
 * etcd out of reach: every instance goes on serving the table it has, a
 * write is refused (503) and changes nothing, a restarted instance serves
 * from its state file; once etcd is back, writes work and reach everyone.
 */
import { describe, expect, test } from "bun:test";
import {
  call,
  empty,
  healthOf,
  startShared,
  statusFor,
  twoInstances,
  waitForHealth,
  waitForStatus,
} from "./instances.ts";

const pair = twoInstances();

describe("etcd stopped, then back", () => {
  test("before: a rule and a drained backend, on both", async () => {
    expect((await call(pair.a, "PUT", "/hostname/kept.test/", empty(201))).status).toBe(200);
    const pool = ["proxy", { backends: ["127.0.0.1:9"] }, false];
    expect((await call(pair.a, "PUT", "/hostname/pool.test/", pool)).status).toBe(200);
    expect((await call(pair.a, "PUT", "/backend/127.0.0.1:9/", { state: "drain" })).status).toBe(
      200,
    );
    await waitForStatus(pair.b, "kept.test", 201);
  });

  test("while it is down both serve, /health says unreachable, and writes change nothing", async () => {
    const revision = (await healthOf(pair.a)).revision;
    await pair.etcd.members[0]!.stop("SIGKILL");
    await waitForHealth(pair.a, "unreachable");
    await waitForHealth(pair.b, "unreachable");
    const health = await healthOf(pair.a);
    expect(health).toMatchObject({ store: "etcd", state: "unreachable", revision });
    expect(Date.parse(health.since!)).toBeGreaterThan(Date.now() - 60_000);

    expect(await statusFor(pair.a, "kept.test")).toBe(201);
    expect(await statusFor(pair.b, "kept.test")).toBe(201);

    const put = await call(pair.a, "PUT", "/hostname/new.test/", empty(202));
    expect(put.status).toBe(503);
    expect((put.body as { error: string }).error).toMatch(/^etcd is unreachable .*nothing changed/);
    expect((await call(pair.a, "GET", "/hostname/new.test/")).status).toBe(404);
    expect(await statusFor(pair.a, "new.test")).toBe(503);

    expect((await call(pair.b, "DELETE", "/hostname/kept.test/")).status).toBe(503);
    expect((await call(pair.b, "GET", "/hostname/kept.test/")).body).toEqual(empty(201));
    expect((await call(pair.b, "PUT", "/hostname/", { "only.test": empty(203) })).status).toBe(503);
    expect(Object.keys((await call(pair.b, "GET", "/hostname/")).body as object).sort()).toEqual([
      "kept.test",
      "pool.test",
    ]);
    expect((await call(pair.a, "PUT", "/backend/127.0.0.1:9/", { state: "enable" })).status).toBe(
      503,
    );
    const backend = await call(pair.a, "GET", "/backend/127.0.0.1:9/");
    expect((backend.body as { state: string }).state).toBe("draining");
  });

  test("an instance restarted while etcd is down serves from its state file", async () => {
    const dir = pair.b.dir;
    await pair.b.stop();
    pair.b = await startShared(pair.etcd, pair.prefix, { dir });
    expect(await statusFor(pair.b, "kept.test")).toBe(201);
    expect((await call(pair.b, "GET", "/backend/127.0.0.1:9/")).body).toMatchObject({
      state: "draining",
    });
    expect(await healthOf(pair.b)).toMatchObject({ state: "unreachable", revision: 0 });
  });

  test("once it is back: /health ok, writes work and reach the other instance", async () => {
    await pair.etcd.members[0]!.start();
    await waitForHealth(pair.a, "ok");
    await waitForHealth(pair.b, "ok");
    // What was refused was never written.
    expect(await pair.etcd.ctl("get", "--keys-only", `${pair.prefix}hostname/new.test`)).toBe("");
    expect(await statusFor(pair.b, "new.test")).toBe(503);

    expect((await call(pair.b, "PUT", "/hostname/after.test/", empty(204))).status).toBe(200);
    await waitForStatus(pair.a, "after.test", 204);
    expect((await call(pair.a, "DELETE", "/hostname/kept.test/")).status).toBe(200);
    await waitForStatus(pair.b, "kept.test", 503);
    const revision = (await healthOf(pair.a)).revision!;
    expect(revision).toBeGreaterThan(0);
    expect((await healthOf(pair.b)).revision).toBeGreaterThan(0);
  });
});
