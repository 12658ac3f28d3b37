/**
 * `mantrid serve`: load the rules, open the listeners and the management API,
 * drop privileges, and run until told to stop.
 */
import { chown, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { Action } from "./actions/action.ts";
import { formatAddress, isLoopback } from "./config/address.ts";
import { type Config, ConfigError } from "./config/config.ts";
import { log, setDebug } from "./log.ts";
import { createManagementApp, startManagement } from "./management/index.ts";
import { startDataPlane } from "./proxy/data-plane.ts";
import { RuleRegistry, type Save } from "./rules/registry.ts";
import { StatsBook } from "./stats/host-stats.ts";
import { loadState, saveState } from "./store/state-file.ts";
import { raiseOpenFilesLimit } from "./system/open-files.ts";

export interface Running {
  /** Bound ports, in the order of the configured addresses (useful with port 0). */
  readonly ports: { bind: number[]; internal: number[]; management: number[] };
  readonly registry: RuleRegistry<Action>;
  readonly stats: StatsBook;
  /** Stops accepting, lets open requests finish within the grace period, saves the state. */
  stop(): Promise<void>;
}

/** Counters are saved this often (rules are saved on every change). */
const STATS_SAVE_SECONDS = 60;

export async function serve(config: Config): Promise<Running> {
  setDebug(config.debug);
  refuseOpenManagement(config);
  checkOpenFiles(config);

  await mkdir(dirname(config.stateFile), { recursive: true });
  const loaded = await loadState(config.stateFile);
  const stats = new StatsBook();
  stats.restore(loaded.stats);

  const save: Save = (_changes, snapshot) => saveState(config.stateFile, snapshot());
  const plane = startDataPlane(config, stats, { reusePort: false });
  let registry: RuleRegistry<Action>;
  try {
    registry = new RuleRegistry<Action>(plane.table, stats, save, loaded.hosts);
  } catch (error) {
    await plane.stop(0);
    throw error;
  }
  log.info(
    `loaded ${registry.size} rules from ${config.stateFile}${loaded.fresh ? " (new file)" : ""}`,
  );

  const management: ReturnType<typeof startManagement> = [];
  try {
    const app = createManagementApp({ registry, stats, token: config.managementToken });
    management.push(...startManagement(app, config.bindManagement));
  } catch (error) {
    await plane.stop(0);
    throw error;
  }
  await dropPrivileges(config);
  plane.listeners.forEach((listener, i) => {
    const trust = i < config.bind.length ? "" : " (trusted: bind_internal)";
    log.info(`listening on ${formatAddress(listener.hostname, listener.port)}${trust}`);
  });
  for (const server of management) log.info(`management API on ${server.url}`);

  const statsTimer = setInterval(() => {
    registry
      .flush()
      .catch((error) => log.warn(`cannot save counters: ${(error as Error).message}`));
  }, STATS_SAVE_SECONDS * 1000);
  statsTimer.unref();

  return {
    ports: { ...plane.ports, management: management.map((server) => server.port ?? 0) },
    registry,
    stats,
    async stop() {
      for (const server of management) server.stop(true);
      await plane.stop(config.shutdownGrace);
      clearInterval(statsTimer);
      await registry.flush();
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

async function dropPrivileges(config: Config): Promise<void> {
  if (config.uid === null && config.gid === null) return;
  const uid = config.uid ?? process.getuid!();
  const gid = config.gid ?? process.getgid!();
  // The state file is rewritten by rename, so its folder must stay writable.
  const folder = dirname(config.stateFile);
  await chown(folder, uid, gid);
  await chown(config.stateFile, uid, gid).catch(() => {});
  process.setgroups?.([]);
  if (config.gid !== null) process.setgid!(gid);
  if (config.uid !== null) process.setuid!(uid);
  log.info(`running as uid ${process.getuid!()} gid ${process.getgid!()}`);
}
