/**
 * Tables in the original client's layout, one host per line, sorted: columns
 * at least as wide as the original's (`%-35s %-25s %-8s`), wider when a cell is.
 */
import type { StatsRecord } from "../stats/host-stats.ts";

const RULE_COLUMNS = ["HOST", "ACTION", "SUBDOMS"];
const RULE_WIDTHS = [35, 25, 8];
const STATS_COLUMNS = ["HOST", "OPEN", "COMPLETED", "BYTES IN", "BYTES OUT"];
const STATS_WIDTHS = [35, 11, 11, 11, 11];

/** The lines of a table: the header, then the rows, each column as wide as its widest cell. */
export function table(header: string[], rows: string[][], minWidths: number[]): string[] {
  const lines = [header, ...rows];
  const widths = minWidths.map((min, i) =>
    Math.max(min, ...lines.map((cells) => cells[i]?.length ?? 0)),
  );
  return lines.map((cells) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join(" "));
}

/** The action with its most telling option, e.g. `proxy<a:80,[::1]:8000>`. */
export function describeAction(triple: unknown): string {
  const [action, options] = Array.isArray(triple) ? triple : [];
  const o = (options ?? {}) as Record<string, unknown>;
  switch (action) {
    case "proxy":
      return `proxy<${backendsText(o.backends)}>`;
    case "static":
      return `static<${String(o.type)}>`;
    case "redirect":
      return `redirect<${String(o.redirect_to)}>`;
    case "empty":
      return `empty<${String(o.code)}>`;
    default:
      return String(action);
  }
}

function backendsText(backends: unknown): string {
  if (!Array.isArray(backends)) return String(backends);
  return backends
    .map((backend) => {
      if (!Array.isArray(backend)) return String(backend);
      const [host, port] = backend.map(String);
      return host?.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
    })
    .join(",");
}

export function ruleTable(rules: Record<string, unknown>): string[] {
  const rows = sortedEntries(rules).map(([host, triple]) => [
    host,
    describeAction(triple),
    String(Array.isArray(triple) ? triple[2] : ""),
  ]);
  return table(RULE_COLUMNS, rows, RULE_WIDTHS);
}

export function statsTable(records: Record<string, Partial<StatsRecord>>): string[] {
  const rows = sortedEntries(records).map(([host, r]) => [
    host,
    String(r.open_requests ?? 0),
    String(r.completed_requests ?? 0),
    String(r.bytes_received ?? 0),
    String(r.bytes_sent ?? 0),
  ]);
  return table(STATS_COLUMNS, rows, STATS_WIDTHS);
}

export function sortedEntries<T>(record: Record<string, T>): [string, T][] {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
