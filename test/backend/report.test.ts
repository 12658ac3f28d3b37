/** A backend as one data plane reports it, and as the primary merges the workers' reports. */
import { expect, test } from "bun:test";
import { type BackendReport, mergeReports, reportAll } from "../../src/backend/report.ts";
import { BackendStates } from "../../src/backend/state.ts";

const report = (over: Partial<BackendReport>): BackendReport => ({
  health: "up",
  since: 1000,
  check: null,
  active: 0,
  requests: 0,
  failures: 0,
  ...over,
});

test("an address is reported from its first mention: up and idle", () => {
  const states = new BackendStates();
  const reports = reportAll(states, ["127.0.0.1:8000"]);
  expect(reports["127.0.0.1:8000"]).toMatchObject({ health: "up", check: null, active: 0 });
  expect(states.find("127.0.0.1:8000")).toBeDefined();
});

test("merged: down if any worker sees it down, counters summed, the latest check and change", () => {
  const older = { ok: true, status: 200, ms: 1.5, at: 5000 };
  const newer = { ok: false, status: 0, ms: 1000, at: 6000, error: "timed out" };
  const merged = mergeReports([
    report({ since: 2000, check: older, active: 1, requests: 10, failures: 1 }),
    report({ health: "down", since: 3000, check: newer, active: 2, requests: 5 }),
    report({ since: 1000, requests: 1, failures: 2 }),
  ]);
  expect(merged).toEqual({
    health: "down",
    since: 3000,
    check: newer,
    active: 3,
    requests: 16,
    failures: 3,
  });
  expect(mergeReports([report({ check: older }), report({})])!.check).toEqual(older);
  expect(mergeReports([])).toBeUndefined();
});

test("merging leaves the workers' reports as they were", () => {
  const first = report({ requests: 1 });
  mergeReports([first, report({ requests: 2 })]);
  expect(first.requests).toBe(1);
});
