/**
 * `mantrid serve`: load the rules, open the listeners and the management API,
 * drop privileges, and run until told to stop.
 */
import type { Action } from "./actions/action.ts";
import { ruleCheck } from "./actions/compile.ts";
import type { StoredAdmin } from "./backend/admin.ts";
import { type BackendReport, reportAll } from "./backend/report.ts";
import { formatAddress, isLoopback } from "./config/address.ts";
import { type Config, ConfigError } from "./config/config.ts";
import { log, setDebug } from "./log.ts";
import { DashboardDurations } from "./management/dashboard/durations.ts";
import type { LatencySource } from "./management/dashboard/latency.ts";
import { createManagementApp, type ManagementDeps, startManagement } from "./management/index.ts";
import { startDataPlane } from "./proxy/data-plane.ts";
import { RuleRegistry, type Save } from "./rules/registry.ts";
import type { RuleSet } from "./rules/schema.ts";
import { RuleTable } from "./rules/table.ts";
import { openAccessLog } from "./stats/access-log.ts";
import { StatsBook, sum } from "./stats/host-stats.ts";
import { Observers } from "./stats/observers.ts";
import type { RateReport } from "./stats/rates.ts";
import { lockStateFile, STATE_FILE_HINT, type StateLock } from "./store/lock.ts";
import { StateFileError } from "./store/state-file.ts";
import { openStateStore } from "./store/state-log.ts";
import { describeFileError, isSystemError } from "./system/file-error.ts";
import { raiseOpenFilesLimit } from "./system/open-files.ts";
import { resolvePorts } from "./system/ports.ts";
import { dropPrivileges } from "./system/privileges.ts";
import { WorkerPool } from "./workers/primary.ts";

export interface Running {
  /** Bound ports, in the order of the configured addresses (useful with port 0). */
  readonly ports: { bind: number[]; internal: number[]; management: number[] };
  readonly registry: RuleRegistry<unknown>;
  readonly stats: StatsBook;
  /** Client connections open in this process (0 with workers, whose connections are theirs). */
  openConnections(): number;
  /** Takes a rate sample now, not at the next second (in this process; each worker samples its own). */
  sampleRates(): void;
  /** Opens the access log file again (SIGUSR1, after logrotate); in every worker with workers. */
  reopenLogs(): Promise<void>;
  /** Stops accepting, lets open requests finish within the grace period, saves the state. */
  stop(): Promise<void>;
}

/** Counters are saved this often (rules are saved on every change). */
const STATS_SAVE_SECONDS = 60;

export async function serve(config: Config): Promise<Running> {
  setDebug(config.debug);
  refuseOpenManagement(config);
  checkOpenFiles(config);

  // Before the store is read: a second server must not even clean up the first one's files.
  const lock = lockStateFile(config.stateFile);
  try {
    return await serveLocked(config, lock);
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function serveLocked(config: Config, lock: StateLock): Promise<Running> {
  const store = await openStateStore(config.stateFile).catch((error) => {
    if (!isSystemError(error)) throw error;
    const doing = `open the state file ${config.stateFile}`;
    throw new StateFileError(describeFileError(error, doing, STATE_FILE_HINT));
  });
  const loaded = store.loaded;
  const stats = new StatsBook();
  stats.restore(loaded.stats);

  const save: Save = (changes, snapshot) => store.save(changes, snapshot);
  const traffic =
    config.workers > 1
      ? await startWorkers(config, stats, save, loaded.hosts, loaded.backends)
      : startInProcess(config, stats, save, loaded.hosts, loaded.backends);
  const { registry } = traffic;
  log.info(
    `loaded ${registry.size} rules from ${config.stateFile}${loaded.fresh ? " (new file)" : ""}`,
  );

  const management: ReturnType<typeof startManagement> = [];
  try {
    const app = createManagementApp({
      registry,
      stats,
      token: config.managementToken,
      refreshStats: traffic.refreshStats,
      backends: traffic.backends,
      rates: traffic.rates,
      latency: traffic.latency,
      metrics: traffic.metrics,
    });
    management.push(...startManagement(app, config.bindManagement));
  } catch (error) {
    await traffic.stop(0);
    throw error;
  }
  await dropPrivileges(config);
  for (const line of traffic.describe()) log.info(line);
  for (const server of management) log.info(`management API on ${server.url}`);

  const saveCounters = async () => {
    await traffic.refreshStats?.();
    await registry.flush();
  };
  const statsTimer = setInterval(() => {
    saveCounters().catch((error) => log.warn(`cannot save counters: ${(error as Error).message}`));
  }, STATS_SAVE_SECONDS * 1000);
  statsTimer.unref();

  return {
    ports: { ...traffic.ports, management: management.map((server) => server.port ?? 0) },
    registry,
    stats,
    openConnections: () => traffic.openConnections?.() ?? 0,
    sampleRates: () => traffic.sampleRates?.(),
    reopenLogs: () => traffic.reopenLogs(),
    async stop() {
      for (const server of management) server.stop(true);
      await traffic.stop(config.shutdownGrace);
      clearInterval(statsTimer);
      await saveCounters();
      await store.close();
      lock.release();
    },
  };
}

/** Where requests are served: in this process, or in worker processes. */
interface Traffic {
  readonly registry: RuleRegistry<unknown>;
  readonly ports: { bind: number[]; internal: number[] };
  readonly refreshStats?: () => Promise<void>;
  readonly openConnections?: () => number;
  readonly sampleRates?: () => void;
  /** Each host's and backend's rates (summed over the workers). */
  rates(): Promise<RateReport>;
  /** Backend addresses as requests see them (summed over the workers). */
  backends(keys: string[]): Promise<Record<string, BackendReport>>;
  reopenLogs(): Promise<void>;
  readonly metrics: NonNullable<ManagementDeps["metrics"]>;
  /** Request durations for the dashboard's p99 (in this process only, for now). */
  readonly latency?: LatencySource;
  describe(): string[];
  stop(graceSeconds: number): Promise<void>;
}

function startInProcess(
  config: Config,
  stats: StatsBook,
  save: Save,
  rules: RuleSet,
  backends: Record<string, StoredAdmin>,
): Traffic {
  const accessLog = config.accessLog === null ? null : openAccessLog(config.accessLog);
  const observers = new Observers();
  if (accessLog !== null) observers.add(accessLog);
  const latency = new DashboardDurations();
  observers.add(latency);
  let plane: ReturnType<typeof startDataPlane>;
  try {
    plane = startDataPlane(config, stats, { reusePort: false, observers });
  } catch (error) {
    void accessLog?.close();
    throw error;
  }
  const states = plane.backends;
  let registry: RuleRegistry<Action>;
  try {
    registry = new RuleRegistry<Action>(
      plane.table,
      stats,
      save,
      rules,
      null,
      ruleCheck(config.staticDir),
      { initial: backends, apply: (key, admin) => states.setAdmin(states.get(key), admin) },
    );
  } catch (error) {
    void plane.stop(0).then(() => accessLog?.close());
    throw error;
  }
  return {
    registry,
    ports: plane.ports,
    openConnections: () => plane.openConnections,
    sampleRates: () => plane.rates.tick(),
    rates: async () => plane.rates.report(),
    backends: async (keys) => reportAll(states, keys),
    metrics: () => plane.metrics.view(),
    latency,
    describe: () =>
      plane.listeners.map((listener, i) => {
        const trust = i < config.bind.length ? "" : " (trusted: bind_internal)";
        return `listening on ${formatAddress(listener.hostname, listener.port)}${trust}`;
      }),
    reopenLogs: async () => accessLog?.reopen(),
    async stop(graceSeconds) {
      await plane.stop(graceSeconds);
      await accessLog?.close();
    },
  };
}

async function startWorkers(
  config: Config,
  stats: StatsBook,
  save: Save,
  rules: RuleSet,
  backends: Record<string, StoredAdmin>,
): Promise<Traffic> {
  // Port 0 must become one port that every worker shares.
  const shared = resolvePorts(config);
  const base = stats.toJSON();
  const pool: WorkerPool = new WorkerPool(
    shared,
    () => registry.all(),
    () => registry.backends.all(),
  );
  const registry = new RuleRegistry<null>(
    new RuleTable(() => null),
    stats,
    save,
    rules,
    (changes) => pool.publish(changes),
    ruleCheck(config.staticDir),
    // Workers apply drains as they apply rules: through `publish`, and at their start.
    { initial: backends },
  );
  const ports = await pool.start().catch(async (error) => {
    await pool.stop(0);
    throw error;
  });
  return {
    registry,
    ports,
    async refreshStats() {
      const totals = await pool.stats();
      for (const host of new Set([...Object.keys(base), ...Object.keys(totals)])) {
        stats.set(host, sum(base[host], totals[host]));
      }
    },
    backends: (keys) => pool.backends(keys),
    rates: () => pool.rates(),
    metrics: () => pool.metrics(),
    // Each worker has its own access log open (the same file, appending).
    async reopenLogs() {
      for (const pid of pool.pids) {
        try {
          process.kill(pid, "SIGUSR1");
        } catch {
          // Gone between the list and the signal: its successor opens the file anew.
        }
      }
    },
    describe: () => [
      ...[...shared.bind, ...shared.bindInternal].map((address, i) => {
        const trust = i < shared.bind.length ? "" : " (trusted: bind_internal)";
        return `listening on ${formatAddress(address.host, address.port)}${trust}`;
      }),
      `${config.workers} workers: pids ${pool.pids.join(", ")}`,
    ],
    stop: (graceSeconds) => pool.stop(graceSeconds),
  };
}

/** Each client connection needs a descriptor; pooled backend connections are shared. */
function checkOpenFiles(config: Config): void {
  const limit = raiseOpenFilesLimit();
  if (limit === null) return;
  if (limit.after > limit.before) {
    log.info(`open files limit raised from ${limit.before} to ${limit.after}`);
  }
  const needed = config.maxConnections + 64;
  if (limit.after < needed) {
    log.warn(
      `open files limit is ${limit.after} (hard limit ${limit.hard}), below the ${needed} that ` +
        `max_connections = ${config.maxConnections} may need: raise it (ulimit -Hn, LimitNOFILE=) ` +
        "or lower max_connections",
    );
  }
}

/** A management API reachable from other hosts must ask for a token. */
function refuseOpenManagement(config: Config): void {
  if (config.managementToken !== null || config.insecureManagement) return;
  const open = config.bindManagement.filter((address) => !isLoopback(address.host));
  if (open.length === 0) return;
  throw new ConfigError(
    `the management API would listen on ${open.map((a) => a.text).join(", ")} without a token, ` +
      "so anyone who can reach it could change every rule: set management_token " +
      "(or --management-token), or pass --insecure-management to accept the risk",
  );
}
