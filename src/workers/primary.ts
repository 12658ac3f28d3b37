/**
 * The primary of `workers = N`: spawns N copies of this executable as workers,
 * pushes every rule change to all of them (the API answers only once each live
 * worker has applied it), sums their counters, and restarts a worker that dies
 * while the others keep serving its share of the traffic. Drains and disables
 * of backends travel as changes too; `GET /backend/` asks every worker.
 */
import type { Subprocess } from "bun";
import type { StoredAdmin } from "../backend/admin.ts";
import { type BackendReport, mergeReports, reportOf } from "../backend/report.ts";
import { BackendState } from "../backend/state.ts";
import type { Config } from "../config/config.ts";
import { ConfigError } from "../config/config.ts";
import { log } from "../log.ts";
import type { Change } from "../rules/registry.ts";
import type { RuleTriple } from "../rules/schema.ts";
import type { StatsRecord } from "../stats/host-stats.ts";
import { processWatch } from "../stats/metrics/process.ts";
import {
  combineWorkers,
  Fallen,
  type MetricsView,
  type PlaneSnapshot,
} from "../stats/metrics/snapshot.ts";
import { addReports, type RateReport } from "../stats/rates.ts";
import { selfCommand } from "../system/self-command.ts";
import type { TlsState, WorkerPorts } from "./messages.ts";
import { type FromWorker, type ToWorker, WORKER_ENV } from "./messages.ts";
import { addStats, toWire } from "./wire.ts";

interface Worker {
  index: number;
  process: Subprocess;
  ready: boolean;
  /** Requests (changes, stats) waiting for this worker's answer. */
  waiting: Map<number, (message: FromWorker) => void>;
  /** The last counters it reported, kept when it dies so totals never go back. */
  lastStats: Record<string, StatsRecord>;
  /** The backends as it last reported them, for when it does not answer in time. */
  lastBackends: Record<string, BackendReport>;
  /** Its metrics as it last reported them (null once they count among the fallen). */
  lastMetrics: PlaneSnapshot | null;
}

const RESTART_DELAY_MS = 200;
const STATS_WAIT_MS = 1000;

export class WorkerPool {
  private readonly workers: (Worker | null)[];
  private nextId = 1;
  private stopping = false;
  /** Counters of workers that have died: part of the totals for good. */
  private readonly fallen = new Map<string, StatsRecord>();
  /** Backend requests and failures counted by workers that have died. */
  private readonly fallenBackends = new Map<string, { requests: number; failures: number }>();
  private readonly fallenMetrics = new Fallen();
  private readonly watch = processWatch();

  constructor(
    private readonly config: Config,
    private readonly rules: () => Record<string, RuleTriple>,
    /** Drained and disabled backends, for each worker that starts. */
    private readonly backendAdmin: () => Record<string, StoredAdmin> = () => ({}),
    /** The serving certificates and pending challenges, for each worker that starts. */
    private readonly tls: () => Partial<TlsState> = () => ({}),
  ) {
    this.workers = Array.from({ length: config.workers }, () => null);
  }

  /** Starts every worker; resolves with the ports they share once all are serving. */
  async start(): Promise<WorkerPorts> {
    const ready = await Promise.all(this.workers.map((_, index) => this.spawn(index)));
    return ready[0]!;
  }

  get pids(): number[] {
    return this.workers.flatMap((worker) => (worker ? [worker.process.pid] : []));
  }

  /** Applies a durable batch in every live worker; resolves when all have. */
  async publish(changes: readonly Change[]): Promise<void> {
    const wire = changes.flatMap(toWire);
    if (wire.length === 0) return;
    await Promise.all(
      this.live().map((worker) =>
        this.ask(worker, (id) => ({ type: "changes", id, changes: wire })),
      ),
    );
  }

  /** To every worker, starting ones too (after their start); resolves once all have applied it. */
  async broadcast(build: (id: number) => ToWorker): Promise<void> {
    const started = this.workers.filter((worker): worker is Worker => worker !== null);
    await Promise.all(started.map((worker) => this.ask(worker, build)));
  }

  /** Every host's counters: the live workers' plus those of workers that died. */
  async stats(): Promise<Record<string, StatsRecord>> {
    const replies = await Promise.all(
      this.live().map((worker) =>
        Promise.race([
          this.ask(worker, (id) => ({ type: "stats", id })).then((reply) => {
            if (reply.type === "stats") worker.lastStats = reply.stats;
            return worker.lastStats;
          }),
          Bun.sleep(STATS_WAIT_MS).then(() => worker.lastStats),
        ]),
      ),
    );
    const total = new Map(this.fallen);
    for (const reply of replies) addStats(total, reply, true);
    return Object.fromEntries(total);
  }

  /**
   * Each backend address as the live workers see it, merged (see
   * `mergeReports`), with the requests and failures of workers that died.
   */
  async backends(keys: string[]): Promise<Record<string, BackendReport>> {
    const replies = await Promise.all(
      this.live().map((worker) =>
        Promise.race([
          this.ask(worker, (id) => ({ type: "backends", id, keys })).then((reply) => {
            if (reply.type === "backends") worker.lastBackends = reply.backends;
            return worker.lastBackends;
          }),
          Bun.sleep(STATS_WAIT_MS).then(() => worker.lastBackends),
        ]),
      ),
    );
    const merged: Record<string, BackendReport> = {};
    for (const key of keys) {
      const seen = replies.flatMap((reply) => (reply[key] ? [reply[key]] : []));
      const report = mergeReports(seen) ?? reportOf(new BackendState(key));
      const fallen = this.fallenBackends.get(key);
      if (fallen !== undefined) {
        report.requests += fallen.requests;
        report.failures += fallen.failures;
      }
      merged[key] = report;
    }
    return merged;
  }

  /**
   * The live workers' rates, summed. One that does not answer in time counts
   * for nothing, as do workers that died: a rate is about the traffic now.
   */
  async rates(): Promise<RateReport> {
    const replies = await Promise.all(
      this.live().map((worker) =>
        Promise.race([
          this.ask(worker, (id) => ({ type: "rates", id })).then((reply) =>
            reply.type === "rates" ? reply.rates : null,
          ),
          Bun.sleep(STATS_WAIT_MS).then(() => null),
        ]),
      ),
    );
    return addReports(replies.filter((reply) => reply !== null));
  }

  /** The workers' metrics summed (with those of workers that died), and each process's own. */
  async metrics(): Promise<MetricsView> {
    const live = this.live();
    const ask = (worker: Worker) =>
      this.ask(worker, (id) => ({ type: "metrics", id })).then((reply) => {
        if (reply.type === "metrics" && reply.metrics) worker.lastMetrics = reply.metrics;
      });
    await Promise.all(live.map((worker) => Promise.race([ask(worker), Bun.sleep(STATS_WAIT_MS)])));
    // Read after the wait: a worker that died meanwhile counts among the fallen only.
    const planes = live.map((worker) => [String(worker.index + 1), worker.lastMetrics] as const);
    return combineWorkers(this.watch.snapshot(), planes, this.fallenMetrics);
  }

  /** Lets each worker finish its requests, collects its last counters, then lets it go. */
  async stop(graceSeconds: number): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.live().map(async (worker) => {
        const kill = setTimeout(() => worker.process.kill("SIGKILL"), (graceSeconds + 2) * 1000);
        const reply = await this.ask(worker, (id) => ({ type: "stop", id, graceSeconds }));
        // Counted here, not on exit: the exit event may come after the caller moves on.
        addStats(this.fallen, reply.type === "stats" ? reply.stats : worker.lastStats, false);
        worker.lastStats = {};
        worker.ready = false;
        try {
          worker.process.disconnect();
        } catch {
          // Already gone.
        }
        await worker.process.exited;
        clearTimeout(kill);
      }),
    );
  }

  private live(): Worker[] {
    return this.workers.filter((worker): worker is Worker => worker?.ready === true);
  }

  private ask(worker: Worker, build: (id: number) => ToWorker): Promise<FromWorker> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      worker.waiting.set(id, resolve);
      try {
        worker.process.send(build(id));
      } catch {
        // It died between our look and the send: its exit handler answers for it.
        worker.waiting.delete(id);
        resolve({ type: "applied", id });
      }
    });
  }

  private spawn(index: number): Promise<WorkerPorts> {
    const { promise, resolve, reject } = Promise.withResolvers<WorkerPorts>();
    const worker: Worker = {
      index,
      ready: false,
      waiting: new Map(),
      lastStats: {},
      lastBackends: {},
      lastMetrics: null,
      process: Bun.spawn(selfCommand(), {
        env: { ...process.env, [WORKER_ENV]: "1" },
        stdin: "ignore",
        stdout: "inherit",
        stderr: "inherit",
        serialization: "json",
        ipc: (message: FromWorker) => {
          if (message.type === "ready") {
            worker.ready = true;
            resolve(message.ports);
          } else if (message.type === "failed") {
            reject(new ConfigError(message.message));
          } else {
            const answer = worker.waiting.get(message.id);
            worker.waiting.delete(message.id);
            answer?.(message);
          }
        },
        onExit: (_process, code, signal) =>
          this.exited(worker, code, signal === null ? null : String(signal), reject),
      }),
    };
    this.workers[index] = worker;
    worker.process.send({
      type: "start",
      config: this.config,
      rules: this.rules(),
      backends: this.backendAdmin(),
      ...this.tls(),
    } satisfies ToWorker);
    log.info(`worker ${index + 1} started (pid ${worker.process.pid})`);
    return promise;
  }

  private exited(
    worker: Worker,
    code: number | null,
    signal: string | null,
    rejectStart: (error: Error) => void,
  ): void {
    const wasReady = worker.ready || this.stopping;
    worker.ready = false;
    addStats(this.fallen, worker.lastStats, false);
    for (const [key, report] of Object.entries(worker.lastBackends)) {
      const sum = this.fallenBackends.get(key) ?? { requests: 0, failures: 0 };
      sum.requests += report.requests;
      sum.failures += report.failures;
      this.fallenBackends.set(key, sum);
    }
    worker.lastBackends = {};
    if (worker.lastMetrics !== null) this.fallenMetrics.add(worker.lastMetrics);
    worker.lastMetrics = null;
    // Nothing more will come from it: whoever waits on it waits no longer.
    for (const answer of worker.waiting.values()) answer({ type: "applied", id: 0 });
    worker.waiting.clear();
    if (this.workers[worker.index] === worker) this.workers[worker.index] = null;
    if (this.stopping) return;
    if (!wasReady)
      return rejectStart(new ConfigError(`worker ${worker.index + 1} exited while starting`));
    log.warn(
      `worker ${worker.index + 1} (pid ${worker.process.pid}) exited (${signal ?? `code ${code}`}); restarting it`,
    );
    setTimeout(() => {
      if (this.stopping) return;
      this.spawn(worker.index).then(
        () => log.info(`worker ${worker.index + 1} restarted`),
        (error) =>
          log.error(`worker ${worker.index + 1} could not restart: ${(error as Error).message}`),
      );
    }, RESTART_DELAY_MS);
  }
}
