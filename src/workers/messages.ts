/** What the primary and its workers say to each other over IPC (JSON). */
import type { StoredAdmin } from "../backend/admin.ts";
import type { BackendReport } from "../backend/report.ts";
import type { AdminState } from "../backend/state.ts";
import type { Config } from "../config/config.ts";
import type { RuleTriple } from "../rules/schema.ts";
import type { StatsRecord } from "../stats/host-stats.ts";
import type { PlaneSnapshot } from "../stats/metrics/snapshot.ts";
import type { RateReport } from "../stats/rates.ts";
import type { Certificate } from "../tls/certificate.ts";
import type { AlpnAnswer } from "../tls/challenges.ts";

export type WireChange =
  | { kind: "set"; key: string; rule: RuleTriple }
  | { kind: "delete"; key: string }
  | { kind: "replace"; rules: Record<string, RuleTriple> }
  | { kind: "backend"; key: string; admin: AdminState };

export type ToWorker =
  | ({
      type: "start";
      config: Config;
      rules: Record<string, RuleTriple>;
      /** Drained and disabled backends (none when absent). */
      backends?: Record<string, StoredAdmin>;
    } & Partial<TlsState>)
  /** A name's serving certificate changed (null: none serves it any more). */
  | { type: "certificate"; id: number; name: string; certificate: Certificate | null }
  /** A challenge was set (null: taken away). */
  | { type: "challenge"; id: number; token: string; keyAuthorization: string | null }
  /** A tls-alpn-01 certificate was set (null: taken away). */
  | { type: "alpn-challenge"; id: number; name: string; answer: AlpnAnswer | null }
  | { type: "changes"; id: number; changes: WireChange[] }
  | { type: "stats"; id: number }
  | { type: "backends"; id: number; keys: string[] }
  | { type: "rates"; id: number }
  | { type: "metrics"; id: number }
  | { type: "stop"; id: number; graceSeconds: number };

export type FromWorker =
  | { type: "ready"; ports: WorkerPorts }
  | { type: "failed"; message: string }
  | { type: "applied"; id: number }
  | { type: "stats"; id: number; stats: Record<string, StatsRecord> }
  | { type: "backends"; id: number; backends: Record<string, BackendReport> }
  | { type: "rates"; id: number; rates: RateReport }
  | { type: "metrics"; id: number; metrics: PlaneSnapshot | null };

/** What a worker's TLS listeners and ACME answers start from. */
export interface TlsState {
  /** Every serving certificate. */
  certificates: Certificate[];
  /** Pending ACME challenges: token, key authorization. */
  challenges: [string, string][];
  /** Pending tls-alpn-01 challenges: name, certificate. */
  alpnChallenges: [string, AlpnAnswer][];
}

export interface WorkerPorts {
  bind: number[];
  internal: number[];
  tls: number[];
}

/** The environment variable that makes the executable a worker. */
export const WORKER_ENV = "MANTRID_WORKER";
