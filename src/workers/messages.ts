/** What the primary and its workers say to each other over IPC (JSON). */
import type { Config } from "../config/config.ts";
import type { RuleTriple } from "../rules/schema.ts";
import type { StatsRecord } from "../stats/host-stats.ts";

export type WireChange =
  | { kind: "set"; key: string; rule: RuleTriple }
  | { kind: "delete"; key: string }
  | { kind: "replace"; rules: Record<string, RuleTriple> };

export type ToWorker =
  | { type: "start"; config: Config; rules: Record<string, RuleTriple> }
  | { type: "changes"; id: number; changes: WireChange[] }
  | { type: "stats"; id: number }
  | { type: "stop"; id: number; graceSeconds: number };

export type FromWorker =
  | { type: "ready"; ports: { bind: number[]; internal: number[] } }
  | { type: "failed"; message: string }
  | { type: "applied"; id: number }
  | { type: "stats"; id: number; stats: Record<string, StatsRecord> };

/** The environment variable that makes the executable a worker. */
export const WORKER_ENV = "MANTRID_WORKER";
