/**
 * Samples the counters once a second while a dashboard is open, and keeps the
 * last minutes of totals for the charts. It reads what `/stats/` reads (with
 * `workers = N`, `refreshStats` first brings the workers' counters over), so
 * the page and the API never disagree; p99 comes from the histograms that
 * `/metrics` shows. With no one watching for as long as the history lasts, it
 * stops and forgets.
 */
import { log } from "../../log.ts";
import type { RuleRegistry } from "../../rules/registry.ts";
import type { StatsBook } from "../../stats/host-stats.ts";
import type { MetricsView } from "../../stats/metrics/snapshot.ts";
import { hostRates } from "../../stats/rate-view.ts";
import type { RateReport } from "../../stats/rates.ts";
import type { BackendReporter } from "../backend-routes.ts";
import { backendRows } from "./backend-rows.ts";
import { type DurationReading, readDurations, windowP99 } from "./latency.ts";
import {
  type Hello,
  HISTORY_SECONDS,
  type HostRow,
  ROW_LIMIT,
  type Sample,
  type Totals,
} from "./sample.ts";

export interface SamplerSources {
  registry: RuleRegistry<unknown>;
  stats: StatsBook;
  refreshStats?: () => Promise<void>;
  backends?: BackendReporter;
  /** The rates `/stats/` shows: errors per hostname come from them. */
  rates?: () => Promise<RateReport>;
  /**
   * The metrics' figures (this process's, or every worker's summed): p99 comes
   * from their request-duration histograms; without them that column stays empty.
   */
  metrics?: () => Promise<MetricsView>;
}

export type SampleListener = (sample: Sample) => void;

/** A hostname's counters at the last reading. */
interface Seen {
  completed: number;
  sent: number;
  received: number;
}

const INTERVAL_MS = 1000;

export class DashboardSampler {
  private readonly listeners = new Set<SampleListener>();
  private history: Totals[] = [];
  private seen = new Map<string, Seen>();
  /** When the counters were last read; 0 before the first reading (rates start from it). */
  private seenAt = 0;
  private latest: Sample | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private idleSince = 0;
  /** Each rule's duration buckets at the last reading. */
  private durations: DurationReading = new Map();
  private failing = false;

  constructor(private readonly sources: SamplerSources) {}

  /** Starts sampling if needed; the hello holds the history, then each sample follows. */
  subscribe(listener: SampleListener): { hello: Hello; latest: Sample | null; stop(): void } {
    this.listeners.add(listener);
    if (this.timer === null) this.schedule(0);
    const hello: Hello = { history: [...this.history], ...this.counted() };
    return {
      hello,
      latest: this.latest,
      stop: () => {
        this.listeners.delete(listener);
        if (this.listeners.size === 0) this.idleSince = performance.now();
      },
    };
  }

  /** Whether errors and p99 are known at all (the page shows "–" otherwise). */
  private counted(): { errors: boolean; p99: boolean } {
    return { errors: this.sources.rates !== undefined, p99: this.sources.metrics !== undefined };
  }

  private schedule(delay: number): void {
    this.timer = setTimeout(() => {
      const started = performance.now();
      this.tick()
        .then(
          () => {
            this.failing = false;
          },
          (error) => {
            // Said once, not every second, until it works again.
            if (!this.failing) log.warn(`dashboard: cannot read the counters: ${String(error)}`);
            this.failing = true;
          },
        )
        .finally(() => {
          if (this.timer === null) return;
          const idle =
            this.listeners.size === 0 && started - this.idleSince > HISTORY_SECONDS * 1e3;
          if (idle) {
            this.timer = null;
            this.forget();
          } else {
            this.schedule(Math.max(0, INTERVAL_MS - (performance.now() - started)));
          }
        });
    }, delay);
    this.timer.unref?.();
  }

  private forget(): void {
    this.history = [];
    this.seen = new Map();
    this.seenAt = 0;
    this.latest = null;
    this.durations = new Map();
  }

  private async tick(): Promise<void> {
    const { registry, stats, refreshStats, rates, metrics } = this.sources;
    const [, report, view] = await Promise.all([refreshStats?.(), rates?.(), metrics?.()]);
    const now = performance.now();
    const first = this.seenAt === 0;
    const seconds = Math.max((now - this.seenAt) / 1000, 0.001);
    this.seenAt = now;
    // Copied at once: in this process the view's counts are the live arrays.
    const durations = view && readDurations(view);
    const p99 = durations && windowP99(this.durations, durations);
    if (durations) this.durations = durations;

    const totals: Totals = {
      t: Math.round(Date.now() / 1000),
      rps: 0,
      sent: 0,
      received: 0,
      errors: report ? 0 : null,
      p99: p99?.all ?? null,
    };
    const rows = new Map<string, HostRow>();
    const seen = new Map<string, Seen>();
    for (const [host, counters] of stats.byHost) {
      const before = this.seen.get(host);
      const after: Seen = {
        completed: counters.completed_requests,
        sent: counters.bytes_sent,
        received: counters.bytes_received,
      };
      seen.set(host, after);
      // A hostname new since the last reading started from zero; counters set
      // back (a reset) count nothing rather than less than nothing.
      const rate = (field: keyof Seen) =>
        first ? 0 : Math.max(0, after[field] - (before?.[field] ?? 0)) / seconds;
      const errors = report && hostRates(report.hosts[host]).errors_per_second;
      const row: HostRow = {
        host,
        rule: null,
        open: counters.open_requests,
        rps: rate("completed"),
        sent: rate("sent"),
        received: rate("received"),
        errors: errors ? errors["10s"] : null,
        p99: p99 ? (p99.byHost.get(host) ?? null) : null,
      };
      rows.set(host, row);
      totals.rps += row.rps;
      totals.sent += row.sent;
      totals.received += row.received;
      if (errors && totals.errors !== null) totals.errors += errors["1s"];
    }
    this.seen = seen;
    if (first) return;

    const sample = await this.sampleOf(registry, rows, totals);
    this.latest = sample;
    this.history.push(totals);
    if (this.history.length > HISTORY_SECONDS) this.history.shift();
    for (const listener of this.listeners) listener(sample);
  }

  private async sampleOf(
    registry: RuleRegistry<unknown>,
    rows: Map<string, HostRow>,
    totals: Totals,
  ): Promise<Sample> {
    let hostCount = registry.size;
    for (const host of rows.keys()) if (!registry.has(host)) hostCount++;
    // The busiest hostnames first, then rules with no traffic yet, up to the limit.
    let shown = [...rows.values()];
    if (shown.length > ROW_LIMIT) {
      shown.sort((a, b) => b.rps - a.rps || b.open - a.open || b.sent - a.sent);
      shown = shown.slice(0, ROW_LIMIT);
    }
    for (const host of registry.keys()) {
      if (shown.length >= ROW_LIMIT) break;
      if (!rows.has(host)) shown.push(idle(host, this.counted()));
    }
    for (const row of shown) row.rule = registry.get(row.host) ?? null;
    shown.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
    const backends = await backendRows(registry, shown, this.sources.backends);
    return { totals, hosts: shown, hostCount, backends };
  }
}

/** A rule with no counters yet. */
function idle(host: string, counted: { errors: boolean }): HostRow {
  const errors = counted.errors ? 0 : null;
  return { host, rule: null, open: 0, rps: 0, sent: 0, received: 0, errors, p99: null };
}
