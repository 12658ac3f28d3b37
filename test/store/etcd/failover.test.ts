/**
 * Traffic through two instances on a three-member etcd: the etcd leader is
 * killed, then one instance is stopped; the surviving instance fails no
 * request, and its writes work against the new leader.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { namedBackend, type TestBackend } from "../../support/backend.ts";
import { startEtcdCluster, type TestEtcd } from "../../support/etcd.ts";
import type { TestMantrid } from "../../support/mantrid.ts";
import { waitFor } from "../../support/wait.ts";
import {
  call,
  freshPrefix,
  healthOf,
  removeFolders,
  startShared,
  waitForStatus,
} from "./instances.ts";

let etcd: TestEtcd;
let backends: TestBackend[];
let a: TestMantrid;
let b: TestMantrid;

beforeAll(async () => {
  etcd = await startEtcdCluster(3);
  backends = [await namedBackend("one"), await namedBackend("two")];
  const prefix = freshPrefix();
  a = await startShared(etcd, prefix);
  b = await startShared(etcd, prefix);
});

afterAll(async () => {
  await a?.stop();
  await b?.stop();
  for (const backend of backends ?? []) await backend.close();
  await etcd?.close();
  await removeFolders();
});

/** Clients that send requests one after another until stopped (or a bounded count). */
function load(instance: TestMantrid, clients: number) {
  const counts = { ok: 0, failed: 0, errors: [] as string[] };
  let stopped = false;
  const one = async () => {
    for (let i = 0; i < 50_000 && !stopped; i++) {
      try {
        const response = await fetch(`http://127.0.0.1:${instance.port}/`, {
          headers: { Host: "app.test" },
          signal: AbortSignal.timeout(10_000),
        });
        const body = await response.text();
        if (response.status === 200 && (body === "one" || body === "two")) counts.ok++;
        else {
          counts.failed++;
          counts.errors.push(`${response.status} ${body.slice(0, 80)}`);
        }
      } catch (error) {
        counts.failed++;
        counts.errors.push(String(error));
      }
    }
  };
  const running = Promise.all(Array.from({ length: clients }, one));
  return {
    counts,
    async stop() {
      stopped = true;
      await running;
    },
  };
}

describe("etcd leader lost, then an instance", () => {
  test("the surviving instance fails no request", async () => {
    const rule = [
      "proxy",
      { backends: backends.map((backend) => `127.0.0.1:${backend.port}`) },
      false,
    ];
    expect((await call(a, "PUT", "/hostname/app.test/", rule)).status).toBe(200);
    await waitForStatus(b, "app.test", 200);

    const onA = load(a, 3);
    const onB = load(b, 3);
    try {
      await waitFor(
        () => onA.counts.ok > 100 && onB.counts.ok > 100,
        "traffic on both",
        20_000,
      ).catch((error) => {
        // What the clients saw says why: failures, or requests that never ended.
        const seen = (name: string, c: typeof onA.counts) =>
          `${name}: ${c.ok} ok, ${c.failed} failed ${JSON.stringify(c.errors.slice(0, 3))}`;
        throw new Error(`${error.message} (${seen("a", onA.counts)}; ${seen("b", onB.counts)})`);
      });

      const leader = await etcd.leader();
      await leader.stop("SIGKILL");
      await etcd.ready();
      expect((await etcd.leader()).name).not.toBe(leader.name);
      const before = onB.counts.ok;
      await waitFor(() => onB.counts.ok > before + 100, "traffic after the new leader", 20_000);

      // Writes reach the new leader, and the other instance.
      const written = await call(b, "PUT", "/hostname/after-leader.test/", [
        "empty",
        { code: 204 },
        false,
      ]);
      expect(written.status).toBe(200);
      await waitForStatus(a, "after-leader.test", 204);

      await a.stop();
      await onA.stop();
      const survivor = onB.counts.ok;
      await waitFor(() => onB.counts.ok > survivor + 200, "traffic after the instance", 20_000);
      expect((await call(b, "DELETE", "/hostname/after-leader.test/")).status).toBe(200);
      expect((await healthOf(b)).state).toBe("ok");
    } finally {
      await onA.stop();
      await onB.stop();
    }
    expect(onB.counts.errors).toEqual([]);
    expect(onB.counts.failed).toBe(0);
    expect(onB.counts.ok).toBeGreaterThan(300);
  });
});
