import type { HostTrack } from "./host-track.ts";

/**
 * Per-hostname counters, keyed by the rule that matched (as the original did).
 * Counters live in their own objects so the data plane holds a direct reference
 * and never looks a name up per request or per chunk.
 */
export class HostStats {
  open_requests = 0;
  completed_requests = 0;
  /** Bytes sent to clients. */
  bytes_sent = 0;
  /** Bytes received from clients. */
  bytes_received = 0;
  /** Where the rate sampler (rates.ts) last saw these counters; null until it has. */
  rateTrack: HostTrack | null = null;
  /** Its counters for `GET /metrics` (stats/metrics/layout.ts), made on its first request since start. */
  metrics: Float64Array | null = null;

  toJSON(): StatsRecord {
    return {
      open_requests: this.open_requests,
      completed_requests: this.completed_requests,
      bytes_sent: this.bytes_sent,
      bytes_received: this.bytes_received,
    };
  }
}

export interface StatsRecord {
  open_requests: number;
  completed_requests: number;
  bytes_sent: number;
  bytes_received: number;
}

export class StatsBook {
  readonly byHost = new Map<string, HostStats>();

  /** The counters of a hostname, created on first use. */
  of(host: string): HostStats {
    let stats = this.byHost.get(host);
    if (!stats) {
      stats = new HostStats();
      this.byHost.set(host, stats);
    }
    return stats;
  }

  /** Overwrites a hostname's counters (a primary summing its workers). */
  set(host: string, record: StatsRecord): void {
    const stats = this.of(host);
    stats.open_requests = record.open_requests;
    stats.completed_requests = record.completed_requests;
    stats.bytes_sent = record.bytes_sent;
    stats.bytes_received = record.bytes_received;
  }

  get(host: string): HostStats | undefined {
    return this.byHost.get(host);
  }

  /** Loads counters saved by an earlier run; nothing is in flight after a restart. */
  restore(saved: Record<string, Partial<StatsRecord>>): void {
    for (const [host, record] of Object.entries(saved)) {
      const stats = this.of(host);
      stats.completed_requests = count(record.completed_requests);
      stats.bytes_sent = count(record.bytes_sent);
      stats.bytes_received = count(record.bytes_received);
      stats.open_requests = 0;
    }
  }

  toJSON(): Record<string, StatsRecord> {
    const out: Record<string, StatsRecord> = {};
    for (const [host, stats] of this.byHost) out[host] = stats.toJSON();
    return out;
  }
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : 0;
}

/** The field-by-field sum of two records; a missing one counts as zeros. */
export function sum(a: StatsRecord | undefined, b: StatsRecord | undefined): StatsRecord {
  return {
    open_requests: (a?.open_requests ?? 0) + (b?.open_requests ?? 0),
    completed_requests: (a?.completed_requests ?? 0) + (b?.completed_requests ?? 0),
    bytes_sent: (a?.bytes_sent ?? 0) + (b?.bytes_sent ?? 0),
    bytes_received: (a?.bytes_received ?? 0) + (b?.bytes_received ?? 0),
  };
}
