/**
 * One instance cut off from etcd (a relay between them is cut) while the
 * other goes on changing rules: once the connection is back, the watch
 * resumes after the last revision it saw and misses nothing; when etcd has
 * compacted those revisions away, the instance reads the whole table again.
 */
import { describe, expect, test } from "bun:test";
import { catchServerLog } from "../../support/stderr.ts";
import { waitFor } from "../../support/wait.ts";
import { call, empty, healthOf, twoInstances, waitForHealth, waitForStatus } from "./instances.ts";

const pair = twoInstances({ relayToB: true });

const logged = catchServerLog();

/** Sets, changes, deletes and drains through `a` while `b` is cut off. */
async function changesWhileCut(round: string): Promise<void> {
  for (let i = 0; i < 30; i++) {
    expect((await call(pair.a, "PUT", `/hostname/${round}${i}.test/`, empty(200 + i))).status).toBe(
      200,
    );
  }
  for (let i = 0; i < 30; i += 3) {
    expect((await call(pair.a, "PUT", `/hostname/${round}${i}.test/`, empty(299))).status).toBe(
      200,
    );
  }
  for (let i = 1; i < 30; i += 3) {
    expect((await call(pair.a, "DELETE", `/hostname/${round}${i}.test/`)).status).toBe(200);
  }
  const pool = ["proxy", { backends: ["127.0.0.1:9"] }, false];
  expect((await call(pair.a, "PUT", `/hostname/${round}-pool.test/`, pool)).status).toBe(200);
  const drain = { state: round.endsWith("2") ? "enable" : "drain" };
  expect((await call(pair.a, "PUT", "/backend/127.0.0.1:9/", drain)).status).toBe(200);
}

async function sameEverywhere(): Promise<void> {
  const rules = (await call(pair.a, "GET", "/hostname/")).body;
  await waitFor(
    async () => Bun.deepEquals((await call(pair.b, "GET", "/hostname/")).body, rules),
    "the cut-off instance to hold every rule",
  );
  const backend = (await call(pair.a, "GET", "/backend/127.0.0.1:9/")).body as { state: string };
  const there = (await call(pair.b, "GET", "/backend/127.0.0.1:9/")).body as { state: string };
  expect(there.state).toBe(backend.state);
  expect((await healthOf(pair.b)).revision).toBe((await healthOf(pair.a)).revision!);
}

describe("a watch cut off and resumed", () => {
  test("resumes after the last revision it saw: every change made meanwhile arrives", async () => {
    expect((await call(pair.a, "PUT", "/hostname/before.test/", empty(201))).status).toBe(200);
    await waitForStatus(pair.b, "before.test", 201);

    pair.relay.cut();
    await waitForHealth(pair.b, "unreachable");
    expect((await healthOf(pair.a)).state).toBe("ok");
    // Cut off, it refuses changes rather than lose them.
    expect((await call(pair.b, "PUT", "/hostname/lost.test/", empty(202))).status).toBe(503);
    await changesWhileCut("r1-");
    expect(await call(pair.b, "GET", "/hostname/r1-0.test/")).toMatchObject({ status: 404 });

    pair.relay.restore();
    await waitForHealth(pair.b, "ok");
    await sameEverywhere();
    expect((await call(pair.b, "GET", "/hostname/r1-0.test/")).body).toEqual(empty(299));
    expect((await call(pair.b, "GET", "/hostname/r1-1.test/")).status).toBe(404);
    expect((await call(pair.b, "GET", "/hostname/r1-2.test/")).body).toEqual(empty(202));
    // Resumed, not read whole.
    expect(logged.join("")).not.toMatch(/read \d+ rules from etcd/);
  });

  test("revisions compacted away meanwhile: it reads the whole table again", async () => {
    pair.relay.cut();
    await waitForHealth(pair.b, "unreachable");
    await changesWhileCut("r2-");
    const revision = (await healthOf(pair.a)).revision!;
    await pair.etcd.ctl("compact", String(revision));

    pair.relay.restore();
    await waitForHealth(pair.b, "ok");
    await sameEverywhere();
    expect(logged.join("")).toMatch(/etcd ended the watch/);
    expect(logged.join("")).toMatch(/read \d+ rules from etcd at revision/);
    // And it follows the watch again afterwards.
    expect((await call(pair.a, "PUT", "/hostname/after.test/", empty(203))).status).toBe(200);
    await waitForStatus(pair.b, "after.test", 203);
  });
});
