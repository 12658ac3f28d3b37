/**
 * What the dashboard stream sends: one sample a second, made from the same
 * counters `/stats/` and `/backend/` answer from. Rates are the change of a
 * counter since the previous sample, divided by the time between them.
 */
import type { RuleTriple } from "../../rules/schema.ts";

/** One hostname (a rule key) in the table. */
export interface HostRow {
  host: string;
  /** Its rule, or null for counters whose rule has gone. */
  rule: RuleTriple | null;
  /** Requests in flight now. */
  open: number;
  /** Completed requests per second. */
  rps: number;
  /** Bytes per second to clients, and from them. */
  sent: number;
  received: number;
  /**
   * Answers with a 5xx status, and requests that ended with no whole answer, per
   * second over the last 10 s (as `/stats/` rates count them); null when not counted.
   */
  errors: number | null;
  /**
   * The 99th percentile of the durations of the requests that ended since the
   * previous sample, in milliseconds; null when none did, or when not counted.
   */
  p99: number | null;
}

/** Every hostname together: one point of each chart. */
export interface Totals {
  /** When, in seconds since the epoch. */
  t: number;
  rps: number;
  sent: number;
  received: number;
  /** Errors per second over the last second; null when not counted. */
  errors: number | null;
  /** The 99th percentile of the durations of the requests that ended in that second. */
  p99: number | null;
}

/** One backend address named by a rule in the table. */
export interface BackendRow {
  address: string;
  state: "up" | "down" | "draining" | "disabled";
  /** The last active check: whether it passed and how long it took (null: none yet). */
  check: { ok: boolean; status: number; ms: number; error?: string } | null;
  active: number;
  requests: number;
  failures: number;
  /** Hostnames of the table that name it. */
  rules: string[];
}

export interface Sample {
  totals: Totals;
  /** At most `ROW_LIMIT` rows (the busiest), sorted by hostname. */
  hosts: HostRow[];
  /** How many hostnames there are in all (rules and counters). */
  hostCount: number;
  backends: BackendRow[];
}

/** The first message of a stream: the charts' last minutes, then samples follow. */
export interface Hello {
  history: Totals[];
  /** Whether errors and p99 are counted at all (the page shows "–" otherwise). */
  errors: boolean;
  p99: boolean;
}

/** Rows sent at most: the table stays readable and each second's message small. */
export const ROW_LIMIT = 200;
/** Seconds of history kept for the charts. */
export const HISTORY_SECONDS = 300;
