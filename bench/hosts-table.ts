/** The table and the greppable lines of `--hosts N`. */
import type { LoadResult } from "./result.ts";
import { textTable } from "./text-table.ts";

export interface HostsRow {
  label: string;
  rules: number;
  loadedBy: "api" | "state-file";
  /** Spawn until both listeners are up (includes loading a state file). */
  startSeconds?: number;
  /** The bulk PUT, or for a state file the whole start. */
  loadSeconds?: number;
  /** Size of the bulk PUT's body. */
  requestBytes?: number;
  rss?: number;
  peak?: number;
  stateBytes?: number;
  /** Median time of a single-rule PUT with all the rules loaded. */
  putMs?: number;
  load?: LoadResult;
  /** Why the rules could not be loaded. */
  failure?: string;
}

const mib = (bytes: number | undefined) =>
  bytes === undefined ? "-" : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const seconds = (value: number | undefined) =>
  value === undefined ? "-" : `${value.toFixed(2)} s`;
const ms = (value: number | undefined) => (value === undefined ? "-" : `${value.toFixed(1)} ms`);
const cpuText = (us: number | undefined) =>
  us === undefined || !Number.isFinite(us) ? "-" : `${us.toFixed(1)} µs`;

export function formatHostsTable(rows: HostsRow[]): string {
  const header = [
    "rules",
    "start",
    "load",
    "RSS",
    "peak RSS",
    "state file",
    "one PUT",
    "req/s",
    "p50",
    "p99",
    "CPU/req",
    "errors",
  ];
  const lines = rows.map((row) => [
    row.label,
    seconds(row.startSeconds),
    seconds(row.loadSeconds),
    mib(row.rss),
    mib(row.peak),
    mib(row.stateBytes),
    ms(row.putMs),
    row.load === undefined ? "-" : row.load.requestsPerSecond.toFixed(0),
    ms(row.load?.p50Ms),
    ms(row.load?.p99Ms),
    cpuText(row.load?.cpuPerRequestUs),
    row.load === undefined ? "-" : String(row.load.errors),
  ]);
  const notes = rows
    .filter((row) => row.failure !== undefined)
    .map((row) => `${row.label}: ${row.failure}`);
  return [
    ...textTable(header, lines),
    ...(notes.length > 0 ? ["", ...notes] : []),
    "",
    "start: spawn until listening; load: the one PUT /hostname/ (for a state file: the start)",
    "req/s, p50, p99, CPU/req (Mantrid's user + system CPU per request): the median run",
  ].join("\n");
}

/** `hosts 1000000 api load_s=... rss_mib=... put_ms=... req_s=...`, then req/s ratios to 10 rules. */
export function formatHostsLines(rows: HostsRow[]): string {
  const fixed = (value: number | undefined, digits: number) =>
    value === undefined ? "-" : value.toFixed(digits);
  const lines = rows.map((row) =>
    [
      `hosts ${row.rules} ${row.loadedBy}`,
      `start_s=${fixed(row.startSeconds, 2)}`,
      `load_s=${fixed(row.loadSeconds, 2)}`,
      `rss_mib=${fixed(row.rss === undefined ? undefined : row.rss / 2 ** 20, 1)}`,
      `peak_mib=${fixed(row.peak === undefined ? undefined : row.peak / 2 ** 20, 1)}`,
      `state_mib=${fixed(row.stateBytes === undefined ? undefined : row.stateBytes / 2 ** 20, 1)}`,
      `put_ms=${fixed(row.putMs, 1)}`,
      `req_s=${fixed(row.load?.requestsPerSecond, 0)}`,
      row.failure === undefined ? "ok" : "failed",
    ].join(" "),
  );
  const base = rows.find((row) => row.rules === 10 && row.loadedBy === "api")?.load;
  for (const row of rows) {
    if (row.rules === 10 || base === undefined || row.load === undefined) continue;
    const ratio = row.load.requestsPerSecond / base.requestsPerSecond;
    lines.push(`ratio hosts-${row.rules}-${row.loadedBy} ${ratio.toFixed(2)}`);
  }
  return lines.join("\n");
}
