/**
 * Where requests are served: in this process, or in worker processes. The
 * server talks to either through this one interface.
 */
import type { StoredAdmin } from "../backend/admin.ts";
import type { BackendReport } from "../backend/report.ts";
import type { Config } from "../config/config.ts";
import type { ManagementDeps } from "../management/index.ts";
import type { PlanePorts } from "../proxy/data-plane.ts";
import type { RuleRegistry, Save } from "../rules/registry.ts";
import type { RuleSet } from "../rules/schema.ts";
import type { StatsBook } from "../stats/host-stats.ts";
import type { RateReport } from "../stats/rates.ts";
import type { CounterGrowth } from "../takeover/protocol.ts";
import type { WireChange } from "../workers/messages.ts";
import type { TlsSources } from "../workers/tls-sync.ts";

/** What either way of serving starts from. */
export interface TrafficStart {
  readonly config: Config;
  /** Counters as loaded; requests add to them. */
  readonly stats: StatsBook;
  /** Makes a batch of rule changes durable (the state file, or etcd). */
  readonly save: Save;
  readonly rules: RuleSet;
  /** Drained and disabled backends. */
  readonly backends: Record<string, StoredAdmin>;
  readonly tls: TlsSources;
}

export interface Traffic {
  readonly registry: RuleRegistry<unknown>;
  readonly ports: PlanePorts;
  readonly refreshStats?: () => Promise<void>;
  readonly openConnections?: () => number;
  readonly sampleRates?: () => void;
  /** Each host's and backend's rates (summed over the workers). */
  rates(): Promise<RateReport>;
  /** Backend addresses as requests see them (summed over the workers). */
  backends(keys: string[]): Promise<Record<string, BackendReport>>;
  reopenLogs(): Promise<void>;
  readonly metrics: Exclude<NonNullable<ManagementDeps["metrics"]>, false>;
  /** Resolves once every certificate and challenge change so far serves in every process. */
  tlsSettled(): Promise<void>;
  /** Adds what a server taken over counted after it saved its counters. */
  carry(growth: Record<string, CounterGrowth>): void;
  /** Changes made by the server that took over, for the requests still held here. */
  follow(changes: WireChange[]): void;
  describe(): string[];
  stop(graceSeconds: number): Promise<void>;
}
