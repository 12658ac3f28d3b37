/**
 * Live rates: the ring of per-second changes (times given by the test, no
 * timers), the book that samples host and backend counters into it, and the
 * JSON the API makes of the totals.
 */
import { describe, expect, test } from "bun:test";
import { BackendStates } from "../../src/backend/state.ts";
import { type HostStats, StatsBook } from "../../src/stats/host-stats.ts";
import {
  BYTES_SENT,
  type Change,
  ERRORS,
  FIELD_COUNT,
  LATENCY_MS,
  RateRing,
  REQUESTS,
  TIMED,
  WINDOWS,
} from "../../src/stats/rate-ring.ts";
import { backendRates, hostRates } from "../../src/stats/rate-view.ts";
import { addReports, RateBook } from "../../src/stats/rates.ts";
import type { RequestEnd } from "../../src/stats/request-end.ts";

const change = (key: string, requests: number, sent = 0): Change => {
  const values = new Array<number>(FIELD_COUNT).fill(0);
  values[REQUESTS] = requests;
  values[BYTES_SENT] = sent;
  return { key, values };
};

/** A key's requests over the 1, 10 and 60 s windows. */
const requests = (ring: RateRing, key: string) =>
  WINDOWS.map((_, w) => ring.totals()[key]?.[w * FIELD_COUNT + REQUESTS] ?? 0);

describe("RateRing", () => {
  test("a slot a second: the windows add up the newest 1, 10 and 60 slots", () => {
    const ring = new RateRing(0);
    // Second 1 to 70: a.test has one request each second; b.test 5 in second 65 only.
    for (let second = 1; second <= 70; second++) {
      const changes = [change("a.test", 1)];
      if (second === 65) changes.push(change("b.test", 5, 500));
      expect(ring.record(changes, second * 1000)).toBe(1);
    }
    expect(requests(ring, "a.test")).toEqual([1, 10, 60]);
    expect(requests(ring, "b.test")).toEqual([0, 5, 5]);
    expect(ring.totals()["b.test"]![2 * FIELD_COUNT + BYTES_SENT]).toBe(500);
  });

  test("a key that changed in no slot of the last minute is absent", () => {
    const ring = new RateRing(0);
    ring.record([change("old.test", 3)], 1000);
    for (let second = 2; second <= 61; second++) ring.record([], second * 1000);
    expect(ring.totals()["old.test"]).toBeUndefined();
    ring.record([change("new.test", 1)], 62_000);
    expect(Object.keys(ring.totals())).toEqual(["new.test"]);
  });

  test("a late record fills the seconds that went by, the change shared out among them", () => {
    const ring = new RateRing(0);
    ring.record([change("a.test", 10)], 1000);
    // Four seconds late: 8 requests over seconds 2 to 5, 2 in each.
    expect(ring.record([change("a.test", 8)], 5000)).toBe(4);
    expect(requests(ring, "a.test")).toEqual([2, 18, 18]);
    // A record sooner than a second (a sample forced by hand) still files one slot.
    expect(ring.record([change("a.test", 1)], 5200)).toBe(1);
    expect(requests(ring, "a.test")).toEqual([1, 19, 19]);
  });

  test("a gap of more than a minute leaves only what came with the record", () => {
    const ring = new RateRing(0);
    ring.record([change("a.test", 100)], 1000);
    expect(ring.record([change("a.test", 60)], 500_000)).toBe(60);
    expect(requests(ring, "a.test")).toEqual([1, 10, 60]);
  });
});

/** A request's end as the transaction reports it, with what rates read. */
function ended(fields: Partial<RequestEnd>): RequestEnd {
  return {
    startedAt: 0,
    endedAt: 0,
    status: 200,
    completed: true,
    bytesIn: 0,
    bytesOut: 0,
    stats: null,
    ruleKey: null,
    host: "",
    method: "GET",
    backend: null,
    attempts: 0,
    headMs: -1,
    heldMs: 0,
    target: () => "/",
    clientAddress: "127.0.0.1",
    ...fields,
  };
}

/** A book on its own clock, moved by the test. */
function book() {
  const stats = new StatsBook();
  const backends = new BackendStates();
  const clock = { now: 0 };
  return { stats, backends, clock, rates: () => new RateBook(stats, backends, () => clock.now) };
}

/** Counts one finished request against `host`, as the data plane does. */
function serve(host: HostStats, sent: number, received: number): void {
  host.completed_requests++;
  host.bytes_sent += sent;
  host.bytes_received += received;
}

describe("RateBook", () => {
  test("counters from before the book are no rate; what changes after is", () => {
    const { stats, clock, rates } = book();
    stats.restore({ "a.test": { completed_requests: 1000, bytes_sent: 1e6, bytes_received: 1e5 } });
    const made = rates();
    clock.now = 1000;
    made.tick();
    expect(made.report()).toEqual({ hosts: {}, backends: {} });

    const a = stats.of("a.test");
    for (let i = 0; i < 6; i++) serve(a, 100, 10);
    clock.now = 2000;
    made.tick();
    const view = hostRates(made.report().hosts["a.test"]);
    expect(view.requests_per_second).toEqual({ "1s": 6, "10s": 0.6, "60s": 0.1 });
    expect(view.bytes_sent_per_second).toEqual({ "1s": 600, "10s": 60, "60s": 10 });
    expect(view.bytes_received_per_second).toEqual({ "1s": 60, "10s": 6, "60s": 1 });
  });

  test("a host new since the last sample counts from zero, whoever sees it first", () => {
    const { stats, clock, rates } = book();
    const made = rates();
    const fresh = stats.of("fresh.test");
    serve(fresh, 50, 5);
    // The end of a request sees the host before the sample does.
    made.requestEnded(
      ended({ stats: fresh, ruleKey: "fresh.test", status: 502, startedAt: 10, endedAt: 40 }),
    );
    const quiet = stats.of("quiet.test");
    serve(quiet, 1, 1);
    clock.now = 1000;
    made.tick();
    const { hosts } = made.report();
    const totals = hosts["fresh.test"]!;
    expect(totals.slice(0, FIELD_COUNT)).toEqual([1, 50, 5, 1, 30, 1]);
    expect(hosts["quiet.test"]!.slice(0, 3)).toEqual([1, 1, 1]);
  });

  test("a host that never had traffic costs no track, before or after a sample", () => {
    const { stats, clock, rates } = book();
    stats.restore({ "old.test": { completed_requests: 0 } });
    stats.of("rule.test");
    const made = rates();
    clock.now = 1000;
    made.tick();
    expect(stats.of("old.test").rateTrack).toBeNull();
    expect(stats.of("rule.test").rateTrack).toBeNull();
    serve(stats.of("rule.test"), 1, 1);
    clock.now = 2000;
    made.tick();
    expect(stats.of("rule.test").rateTrack).not.toBeNull();
    expect(made.report().hosts["rule.test"]!.slice(0, 3)).toEqual([1, 1, 1]);
  });

  test("errors are 5xx answers and requests cut short; latency the mean time, tunnels left out", () => {
    const { stats, clock, rates } = book();
    const made = rates();
    const host = stats.of("a.test");
    const end = (status: number, ms: number, completed = true) =>
      made.requestEnded(
        ended({ stats: host, ruleKey: "a.test", status, completed, startedAt: 5, endedAt: 5 + ms }),
      );
    end(200, 10);
    end(404, 20);
    end(503, 30);
    end(200, 40, false);
    end(101, 60_000);
    clock.now = 1000;
    made.tick();
    const totals = made.report().hosts["a.test"]!;
    expect(totals[ERRORS]).toBe(2);
    expect(totals[TIMED]).toBe(4);
    expect(totals[LATENCY_MS]).toBe(100);
    const view = hostRates(totals);
    expect(view.errors_per_second).toEqual({ "1s": 2, "10s": 0.2, "60s": 0.033 });
    expect(view.latency_ms).toEqual({ "1s": 25, "10s": 25, "60s": 25 });
  });

  test("a host with no request ended has no latency: null, not 0", () => {
    expect(hostRates(undefined)).toEqual({
      requests_per_second: { "1s": 0, "10s": 0, "60s": 0 },
      bytes_sent_per_second: { "1s": 0, "10s": 0, "60s": 0 },
      bytes_received_per_second: { "1s": 0, "10s": 0, "60s": 0 },
      errors_per_second: { "1s": 0, "10s": 0, "60s": 0 },
      latency_ms: { "1s": null, "10s": null, "60s": null },
    });
  });

  test("backends: requests and failures from their counters, bytes and times from the requests they answered", () => {
    const { backends, clock, rates } = book();
    const early = backends.get("127.0.0.1:8000");
    early.requests = 40;
    const made = rates();
    early.requests += 3;
    early.failures += 1;
    const late = backends.get("127.0.0.1:8001");
    late.requests = 2;
    made.requestEnded(
      ended({ backend: early, bytesIn: 100, bytesOut: 2000, startedAt: 0, endedAt: 12 }),
    );
    clock.now = 1000;
    made.tick();
    const { backends: report } = made.report();
    const view = backendRates(report["127.0.0.1:8000"]);
    expect(view.requests_per_second["1s"]).toBe(3);
    expect(view.failures_per_second["1s"]).toBe(1);
    expect(view.bytes_sent_per_second["1s"]).toBe(2000);
    expect(view.bytes_received_per_second["1s"]).toBe(100);
    expect(view.latency_ms["1s"]).toBe(12);
    expect(backendRates(report["127.0.0.1:8001"]).requests_per_second["60s"]).toBe(0.033);
  });

  test("the reports of several workers add up key by key", () => {
    const a = { hosts: { "a.test": [1, 2] }, backends: {} };
    const b = { hosts: { "a.test": [10, 20], "b.test": [5, 5] }, backends: { x: [1] } };
    expect(addReports([a, b])).toEqual({
      hosts: { "a.test": [11, 22], "b.test": [5, 5] },
      backends: { x: [1] },
    });
    expect(a.hosts["a.test"]).toEqual([1, 2]);
  });
});
