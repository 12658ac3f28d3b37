/**
 * Rates in `/stats/` and `/backend/`, after known traffic through a real
 * server to a real backend. A sample is taken by hand once the traffic is
 * done; whatever samples the clock took meanwhile, the last minute holds all
 * of it, so the 60 s rates are the counts over 60.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import type { HostRates } from "../../src/stats/rate-view.ts";
import { namedBackend, type TestBackend } from "../support/backend.ts";
import { startMantrid, type TestMantrid } from "../support/mantrid.ts";
import { call } from "./harness.ts";

let backend: TestBackend;
let A: string;
beforeAll(async () => {
  backend = await namedBackend("a");
  A = `127.0.0.1:${backend.port}`;
});
afterAll(() => backend.close());

let mantrid: TestMantrid;
beforeEach(async () => {
  mantrid = await startMantrid();
  await mantrid.set("app.test", ["proxy", { backends: [A] }, false]);
  await mantrid.set("down.test", ["empty", { code: 503 }, false]);
  await mantrid.set("idle.test", ["static", { type: "test" }, false]);
});
afterEach(() => mantrid.stop());

async function send(host: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const response = await fetch(`http://127.0.0.1:${mantrid.port}/`, { headers: { Host: host } });
    await response.arrayBuffer();
  }
}

type View = Record<string, number> & { rates: HostRates };

async function stats(path = "/stats/"): Promise<Record<string, View>> {
  const reply = await call(mantrid.url, "GET", path);
  expect(reply.status).toBe(200);
  return reply.body as Record<string, View>;
}

describe("/stats/", () => {
  test("each host has its rates after the original four counters, which are as they were", async () => {
    await send("app.test", 12);
    await send("down.test", 3);
    mantrid.running.sampleRates();
    const all = await stats();

    const app = all["app.test"]!;
    expect(Object.keys(app)).toEqual([
      "open_requests",
      "completed_requests",
      "bytes_sent",
      "bytes_received",
      "rates",
    ]);
    expect(app.completed_requests).toBe(12);
    expect(app.rates.requests_per_second["60s"]).toBe(0.2);
    expect(app.rates.bytes_sent_per_second["60s"]).toBeCloseTo(app.bytes_sent! / 60, 2);
    expect(app.rates.bytes_received_per_second["60s"]).toBeCloseTo(app.bytes_received! / 60, 2);
    expect(app.rates.errors_per_second["60s"]).toBe(0);
    expect(app.rates.latency_ms["60s"]).toBeGreaterThan(0);

    const down = all["down.test"]!;
    expect(down.rates.requests_per_second["60s"]).toBe(0.05);
    expect(down.rates.errors_per_second["60s"]).toBe(0.05);

    // A rule with no traffic has rates of zero, and no latency.
    const idle = all["idle.test"]!;
    expect(idle.completed_requests).toBe(0);
    expect(idle.rates.requests_per_second).toEqual({ "1s": 0, "10s": 0, "60s": 0 });
    expect(idle.rates.latency_ms).toEqual({ "1s": null, "10s": null, "60s": null });
  });

  test("one host's record has them too", async () => {
    await send("app.test", 6);
    mantrid.running.sampleRates();
    const one = (await call(mantrid.url, "GET", "/stats/app.test/")).body as View;
    expect(one.completed_requests).toBe(6);
    expect(one.rates.requests_per_second["60s"]).toBe(0.1);
  });

  test("?active lists only the hosts with traffic in the last minute", async () => {
    expect(await stats("/stats/?active")).toEqual({});
    await send("app.test", 1);
    mantrid.running.sampleRates();
    expect(Object.keys(await stats("/stats/?active"))).toEqual(["app.test"]);
    expect(Object.keys(await stats("/stats/")).sort()).toEqual([
      "app.test",
      "down.test",
      "idle.test",
    ]);
  });
});

describe("/backend/", () => {
  test("each backend has its requests and bytes per second", async () => {
    await send("app.test", 12);
    mantrid.running.sampleRates();
    const reply = await call(mantrid.url, "GET", "/backend/");
    const view = (reply.body as Record<string, { requests: number; rates: never }>)[A]!;
    expect(view.requests).toBe(12);
    expect(view.rates).toMatchObject({
      requests_per_second: { "60s": 0.2 },
      failures_per_second: { "60s": 0 },
      bytes_sent_per_second: { "60s": expect.any(Number) },
      bytes_received_per_second: { "60s": expect.any(Number) },
      latency_ms: { "60s": expect.any(Number) },
    });
    const one = (await call(mantrid.url, "GET", `/backend/${A}/`)).body as { rates: unknown };
    expect(one.rates).toMatchObject({ requests_per_second: { "60s": 0.2 } });
  });
});
