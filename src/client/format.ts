/** Tables in the original client's layout: fixed-width columns, one host per line, sorted. */
import type { StatsRecord } from "../stats/host-stats.ts";

/** `%-35s %-25s %-8s` */
export function ruleRow(host: string, action: string, subdomains: string): string {
  return `${host.padEnd(35)} ${action.padEnd(25)} ${subdomains.padEnd(8)}`;
}

/** `%-35s %-11s %-11s %-11s %-11s` */
export function statsRow(host: string, ...columns: string[]): string {
  return [host.padEnd(35), ...columns.map((column) => column.padEnd(11))].join(" ");
}

export const RULE_HEADER = ruleRow("HOST", "ACTION", "SUBDOMS");
export const STATS_HEADER = statsRow("HOST", "OPEN", "COMPLETED", "BYTES IN", "BYTES OUT");

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

export function ruleLines(rules: Record<string, unknown>): string[] {
  return sortedEntries(rules).map(([host, triple]) =>
    ruleRow(host, describeAction(triple), String(Array.isArray(triple) ? triple[2] : "")),
  );
}

export function statsLines(records: Record<string, Partial<StatsRecord>>): string[] {
  return sortedEntries(records).map(([host, r]) =>
    statsRow(
      host,
      String(r.open_requests ?? 0),
      String(r.completed_requests ?? 0),
      String(r.bytes_received ?? 0),
      String(r.bytes_sent ?? 0),
    ),
  );
}

export function sortedEntries<T>(record: Record<string, T>): [string, T][] {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
