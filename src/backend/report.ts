/**
 * What one data plane knows of a backend address, as plain JSON: what
 * `GET /backend/` shows, and what a worker sends its primary, which merges
 * the workers' reports into one.
 */
import type { BackendState, BackendStates, CheckResult, Health } from "./state.ts";

export interface BackendReport {
  health: Health;
  /** When health or the admin state last changed (milliseconds since the epoch). */
  since: number;
  check: CheckResult | null;
  /** Requests in flight and upgraded connections. */
  active: number;
  requests: number;
  failures: number;
}

export function reportOf(state: BackendState): BackendReport {
  return {
    health: state.health,
    since: state.since,
    check: state.check,
    active: state.active,
    requests: state.requests,
    failures: state.failures,
  };
}

/** The reports of `keys`; an address seen for the first time gets its state now (up, no traffic). */
export function reportAll(
  states: BackendStates,
  keys: readonly string[],
): Record<string, BackendReport> {
  const reports: Record<string, BackendReport> = {};
  for (const key of keys) reports[key] = reportOf(states.get(key));
  return reports;
}

/**
 * One address as several processes see it: down if any sees it down (a
 * worker's checks or ejections speak for the traffic that worker sends, and a
 * backend some traffic cannot use is not healthy), the counters summed, the
 * latest check and the latest change. Undefined when there is no report.
 */
export function mergeReports(reports: readonly BackendReport[]): BackendReport | undefined {
  let merged: BackendReport | undefined;
  for (const report of reports) {
    if (merged === undefined) {
      merged = { ...report };
      continue;
    }
    if (report.health === "down") merged.health = "down";
    merged.since = Math.max(merged.since, report.since);
    if (report.check !== null && (merged.check === null || report.check.at > merged.check.at)) {
      merged.check = report.check;
    }
    merged.active += report.active;
    merged.requests += report.requests;
    merged.failures += report.failures;
  }
  return merged;
}
