/**
 * `mantrid serve`: load the rules, open the listeners and the management API,
 * drop privileges, and run until told to stop.
 */
import { isLoopback } from "./config/address.ts";
import { type Config, ConfigError } from "./config/config.ts";
import { log, setDebug } from "./log.ts";
import { createManagementApp, startManagement } from "./management/index.ts";
import type { PlanePorts } from "./proxy/data-plane.ts";
import type { RuleRegistry } from "./rules/registry.ts";
import { StatsBook } from "./stats/host-stats.ts";
import { openRuleStore } from "./store/etcd/rule-store.ts";
import { raiseOpenFilesLimit } from "./system/open-files.ts";
import { dropPrivileges } from "./system/privileges.ts";
import { Tenure } from "./takeover/tenure.ts";
import { AcmeCertificates, readCaRoot } from "./tls/acme/manager.ts";
import { CertificateCatalog } from "./tls/catalog.ts";
import { ChallengeBook } from "./tls/challenges.ts";
import { startCertificates } from "./tls/sources.ts";
import { startInProcess } from "./traffic/in-process.ts";
import { startWorkers } from "./traffic/workers.ts";
import type { TlsSources } from "./workers/tls-sync.ts";

export interface Running {
  /** Bound ports, in the order of the configured addresses (useful with port 0). */
  readonly ports: PlanePorts & { management: number[] };
  readonly registry: RuleRegistry<unknown>;
  readonly stats: StatsBook;
  /** Client connections open in this process (0 with workers, whose connections are theirs). */
  openConnections(): number;
  /** Takes a rate sample now, not at the next second (in this process; each worker samples its own). */
  sampleRates(): void;
  /** Opens the access log file again (SIGUSR1, after logrotate); in every worker with workers. */
  reopenLogs(): Promise<void>;
  /** Reads cert_dir again now (SIGHUP). */
  rescanCertificates(): Promise<void>;
  /** Resolves with its pid once a new server has taken over (`mantrid serve --takeover`). */
  readonly superseded: Promise<number>;
  /** The pid of the server that took over, if one did. */
  successorPid(): number | null;
  /** Stops accepting, lets open requests finish within the grace period, saves the state. */
  stop(): Promise<void>;
}

export interface ServeOptions {
  /** Take over from the server running on the same state file (see src/takeover/). */
  takeover?: boolean;
}

/** Counters are saved this often (rules are saved on every change). */
const STATS_SAVE_SECONDS = 60;

export async function serve(config: Config, options: ServeOptions = {}): Promise<Running> {
  setDebug(config.debug);
  refuseOpenManagement(config);
  checkOpenFiles(config);

  // Before the store is read: a second server must not even clean up the first one's files.
  // Every port is fixed there, and checked free unless the server taken over holds it.
  const tenure = await Tenure.begin(config, options.takeover ?? false);
  try {
    return await serveLocked(tenure.config, tenure);
  } catch (error) {
    await tenure.abandon(error);
    throw error;
  }
}

async function serveLocked(config: Config, tenure: Tenure): Promise<Running> {
  const loaded = await tenure.open();
  const stats = new StatsBook();
  stats.restore(loaded.stats);
  const acmeCaRoot = await readCaRoot(config.acmeCaRoot);
  const certificates = new CertificateCatalog();
  // ACME http-01 answers, served by the plain listeners while an order is validated.
  const challenges = new ChallengeBook();
  const tls: TlsSources = { certificates, challenges };
  // Before the listeners: the first handshake finds every certificate there is.
  const certificateSources = await startCertificates(config, certificates);

  // The state file alone, or etcd with the state file as its local copy.
  const rules = await openRuleStore(config, { loaded, save: tenure.save });
  const start = {
    config,
    stats,
    save: rules.save,
    rules: rules.rules,
    backends: rules.backends,
    tls,
  };
  const traffic = config.workers > 1 ? await startWorkers(start) : startInProcess(start);
  const { registry } = traffic;
  rules.follow(registry);
  log.info(`loaded ${registry.size} rules from ${rules.source}`);

  const management: ReturnType<typeof startManagement> = [];
  try {
    const app = createManagementApp({
      registry,
      stats,
      token: config.managementToken,
      refreshStats: traffic.refreshStats,
      backends: traffic.backends,
      rates: traffic.rates,
      metrics: config.metrics ? traffic.metrics : false,
      certificates: { ...certificateSources, settled: () => traffic.tlsSettled() },
      writes: tenure.gate,
      health: () => rules.health(),
    });
    management.push(...startManagement(app, config.bindManagement, undefined, true));
  } catch (error) {
    await traffic.stop(0);
    await certificateSources.stop();
    await rules.close();
    throw error;
  }
  await dropPrivileges(config);
  for (const line of traffic.describe()) log.info(line);
  for (const server of management) log.info(`management API on ${server.url}`);
  const saveCounters = async () => {
    await traffic.refreshStats?.();
    await registry.flush();
  };
  try {
    await tenure.confirm({
      ports: { ...traffic.ports, management: management.map((server) => server.port ?? 0) },
      stats,
      refreshStats: traffic.refreshStats,
      flush: saveCounters,
      carry: (growth) => traffic.carry(growth),
      follow: (changes) => traffic.follow(changes),
      stopAccepting: () => {
        for (const server of management) void server.stop(false);
      },
    });
  } catch (error) {
    // The server taken over carries on: the state goes back first, then what came here ends.
    for (const server of management) server.stop(true);
    await tenure.abandon(error);
    await traffic.stop(config.shutdownGrace);
    await certificateSources.stop();
    await rules.close();
    throw error;
  }
  // Once privileges are dropped: the ACME account key is written as the user that reads it later.
  const acme = AcmeCertificates.start(registry, {
    config,
    kept: certificateSources.kept,
    challenges,
    challengesServed: () => traffic.tlsSettled(),
    caRoot: acmeCaRoot,
  });

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
    rescanCertificates: () => certificateSources.rescan(),
    superseded: tenure.superseded,
    successorPid: () => tenure.successorPid,
    async stop() {
      acme.stop();
      for (const server of management) server.stop(true);
      await certificateSources.stop();
      await traffic.stop(config.shutdownGrace);
      clearInterval(statsTimer);
      // Stops following etcd (its copy in the state file is written by now).
      await rules.close();
      // Saves the counters, or passes them to the server that took over.
      await tenure.end(saveCounters);
    },
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
