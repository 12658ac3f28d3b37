/** The results table: one row per scenario and target, medians over the rounds. */
import { type LoadResult, median } from "./result.ts";
import type { Scenario } from "./scenarios.ts";
import { textTable } from "./text-table.ts";

export interface Row {
  scenario: string;
  target: string;
  rounds: number;
  requestsPerSecond: number;
  /** (max - min) / median of req/s over the rounds, in percent: how noisy the cell is. */
  spreadPercent: number;
  p50Ms: number;
  p99Ms: number;
  /** Payload MB/s (10^6 bytes): bodies sent for uploads, bytes read otherwise. */
  megabytesPerSecond: number;
  /** User + system CPU µs of the target's processes per request (direct: the backend's). */
  cpuPerRequestUs: number;
  /** Errors summed over the rounds. */
  errors: number;
}

/** The MB/s of one run: request bodies for an upload, else what the client read. */
function megabytesPerSecond(scenario: Scenario, run: LoadResult): number {
  const bytes =
    scenario.bodyBytes > 0 ? run.requestsPerSecond * scenario.bodyBytes : run.readBytesPerSecond;
  return bytes / 1e6;
}

export function summarize(scenario: Scenario, target: string, runs: LoadResult[]): Row {
  const perSecond = runs.map((run) => run.requestsPerSecond);
  const middle = median(perSecond);
  return {
    scenario: scenario.name,
    target,
    rounds: runs.length,
    requestsPerSecond: middle,
    spreadPercent:
      runs.length > 1 && middle > 0
        ? ((Math.max(...perSecond) - Math.min(...perSecond)) / middle) * 100
        : Number.NaN,
    p50Ms: median(runs.map((run) => run.p50Ms)),
    p99Ms: median(runs.map((run) => run.p99Ms)),
    megabytesPerSecond: median(runs.map((run) => megabytesPerSecond(scenario, run))),
    cpuPerRequestUs: median(runs.map((run) => run.cpuPerRequestUs)),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
  };
}

/** Mantrid's value of `measure` over HAProxy's, per scenario (absent when either is unknown). */
export function ratios(
  rows: Row[],
  measure: (row: Row) => number,
  of = "mantrid",
  over = "haproxy",
): Map<string, number> {
  const out = new Map<string, number>();
  for (const row of rows) {
    if (row.target !== of) continue;
    const base = rows.find((r) => r.scenario === row.scenario && r.target === over);
    const ratio = base ? measure(row) / measure(base) : Number.NaN;
    if (Number.isFinite(ratio)) out.set(row.scenario, ratio);
  }
  return out;
}

const perSecond = (row: Row) => row.requestsPerSecond;
const cpu = (row: Row) => row.cpuPerRequestUs;

function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "-";
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(0)} ms`;
}

function formatNumber(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "-";
}

/** The table as text: aligned columns, a blank line between scenarios. */
export function formatTable(rows: Row[]): string {
  const speedRatio = ratios(rows, perSecond);
  const cpuRatio = ratios(rows, cpu);
  const ratioText = (row: Row, of: Map<string, number>) =>
    row.target === "mantrid" ? (of.get(row.scenario)?.toFixed(2) ?? "-") : "";
  const header = [
    "scenario",
    "target",
    "req/s",
    "spread",
    "p50",
    "p99",
    "MB/s",
    "CPU/req",
    "errors",
    "req/s m/h",
    "CPU m/h",
  ];
  const lines: string[][] = [];
  let previous: string | undefined;
  for (const row of rows) {
    if (previous !== undefined && previous !== row.scenario) lines.push([]);
    lines.push([
      previous === row.scenario ? "" : row.scenario,
      row.target,
      formatNumber(row.requestsPerSecond, 0),
      Number.isFinite(row.spreadPercent) ? `${row.spreadPercent.toFixed(0)}%` : "-",
      formatMs(row.p50Ms),
      formatMs(row.p99Ms),
      formatNumber(row.megabytesPerSecond, 1),
      Number.isFinite(row.cpuPerRequestUs) ? `${row.cpuPerRequestUs.toFixed(1)} µs` : "-",
      String(row.errors),
      ratioText(row, speedRatio),
      ratioText(row, cpuRatio),
    ]);
    previous = row.scenario;
  }
  return [
    ...textTable(header, lines, 2),
    "",
    "req/s, p50, p99, MB/s: medians over the rounds; spread: (max - min) / median of req/s;",
    "MB/s: 10^6 bytes/s read by the client (for a POST: request bodies sent); errors: summed",
    "CPU/req: user + system CPU time of the target's processes (every thread and worker)",
    "per request, median (direct: the backend's own); m/h: Mantrid over HAProxy",
  ].join("\n");
}

/**
 * Greppable lines per scenario, Mantrid over HAProxy: `ratio keepalive-small 1.04`
 * for req/s and `cpu-ratio keepalive-small 0.93` for CPU per request.
 */
/** The Mantrid whose rule balances over four backends (`--targets ...,mantrid-balanced`). */
export const BALANCED = "mantrid-balanced";

export function formatRatioLines(rows: Row[]): string {
  const lines = (label: string, of: Map<string, number>) =>
    [...of].map(([scenario, ratio]) => `${label} ${scenario} ${ratio.toFixed(2)}`);
  return [
    ...lines("ratio", ratios(rows, perSecond)),
    ...lines("cpu-ratio", ratios(rows, cpu)),
    // Four backends, least_conn and health checks, over the one-backend rule.
    ...lines("balanced-cpu-ratio", ratios(rows, cpu, BALANCED, "mantrid")),
  ].join("\n");
}
