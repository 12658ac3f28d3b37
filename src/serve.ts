/**
 * `mantrid serve`: load the rules, open the listeners and the management API,
 * drop privileges, and run until told to stop.
 */
import { chown, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { TCPSocketListener } from "bun";
import type { Action } from "./actions/action.ts";
import { type ActionContext, compileRule } from "./actions/compile.ts";
import { Router } from "./actions/router.ts";
import { SpinRoom } from "./actions/spin.ts";
import { formatAddress, isLoopback, type ListenAddress } from "./config/address.ts";
import { type Config, ConfigError } from "./config/config.ts";
import { DEFAULT_LIMITS, type HeadLimits } from "./http/limits.ts";
import { log, setDebug } from "./log.ts";
import { createManagementApp, startManagement } from "./management/index.ts";
import { BackendPool } from "./proxy/backend-pool.ts";
import type { ClientConnection, ListenerContext } from "./proxy/client-connection.ts";
import { listen } from "./proxy/listener.ts";
import { startSweep } from "./proxy/sweep.ts";
import { RuleRegistry, type Save } from "./rules/registry.ts";
import { RuleTable } from "./rules/table.ts";
import { PageStore } from "./static/pages.ts";
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

  const limits: HeadLimits = {
    maxRequestLine: config.maxRequestLine,
    maxHeadSize: config.maxHeadSize,
    maxHeaders: config.maxHeaders,
  };
  const pages = new PageStore(config.staticDir);
  const pool = new BackendPool({ idleTimeout: config.idleTimeout, maxIdlePerBackend: 1024 });
  const context: ActionContext = {
    pages,
    stats,
    forward: {
      pool,
      connectTimeout: config.connectTimeout,
      backendTimeout: config.backendTimeout,
      timeoutPage: pages.builtin("timeout"),
      // Backends are trusted more than clients, but a head must still fit in memory.
      limits: { ...DEFAULT_LIMITS, maxHeadSize: Math.max(65536, limits.maxHeadSize) },
    },
    spin: null,
  };
  const table = new RuleTable<Action>((key, rule) => compileRule(context, key, rule));
  const router = new Router(table, pages);
  context.spin = new SpinRoom(router, pages.builtin("timeout"), config.maxSpinning, (listener) =>
    table.onChange(listener),
  );
  const save: Save = (_changes, snapshot) => saveState(config.stateFile, snapshot());
  const registry = new RuleRegistry<Action>(table, stats, save, loaded.hosts);
  log.info(
    `loaded ${registry.size} rules from ${config.stateFile}${loaded.fresh ? " (new file)" : ""}`,
  );

  const connections = new Set<ClientConnection>();
  const external: ListenerContext = {
    internal: false,
    router,
    limits,
    connections,
    maxConnections: config.maxConnections,
  };
  const internal: ListenerContext = { ...external, internal: true };
  const listeners: TCPSocketListener<ClientConnection>[] = [];
  const management: ReturnType<typeof startManagement> = [];
  try {
    for (const address of config.bind)
      listeners.push(bindOrExplain(address, external, "bind", "--bind"));
    for (const address of config.bindInternal) {
      listeners.push(bindOrExplain(address, internal, "bind_internal", "--bind-internal"));
    }
    const app = createManagementApp({ registry, stats, token: config.managementToken });
    management.push(...startManagement(app, config.bindManagement));
  } catch (error) {
    for (const listener of listeners) listener.stop(true);
    for (const server of management) server.stop(true);
    throw error;
  }
  await dropPrivileges(config);
  listeners.forEach((listener, i) => {
    const trust = i < config.bind.length ? "" : " (trusted: bind_internal)";
    log.info(`listening on ${formatAddress(listener.hostname, listener.port)}${trust}`);
  });
  for (const server of management) log.info(`management API on ${server.url}`);

  const stopSweep = startSweep(connections, pool, config);
  const statsTimer = setInterval(() => {
    registry
      .flush()
      .catch((error) => log.warn(`cannot save counters: ${(error as Error).message}`));
  }, STATS_SAVE_SECONDS * 1000);
  statsTimer.unref();

  const bindCount = config.bind.length;
  return {
    ports: {
      bind: listeners.slice(0, bindCount).map((listener) => listener.port),
      internal: listeners.slice(bindCount).map((listener) => listener.port),
      management: management.map((server) => server.port ?? 0),
    },
    registry,
    stats,
    async stop() {
      for (const listener of listeners) listener.stop(false);
      for (const server of management) server.stop(true);
      await drain(connections, config.shutdownGrace);
      for (const connection of connections) connection.abort();
      stopSweep();
      clearInterval(statsTimer);
      pool.closeAll();
      for (const listener of listeners) listener.stop(true);
      await registry.flush();
    },
  };
}

function bindOrExplain(
  address: ListenAddress,
  context: ListenerContext,
  option: string,
  flag: string,
): TCPSocketListener<ClientConnection> {
  try {
    return listen(address, context);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === "EADDRINUSE"
        ? "the address is in use"
        : code === "EACCES"
          ? "permission denied: ports below 1024 need root"
          : code === "EADDRNOTAVAIL"
            ? "no such address on this machine"
            : (error as Error).message;
    throw new ConfigError(`cannot listen on ${address.text} (${why}): change ${option} or ${flag}`);
  }
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

/** Waits until every connection is between requests, or the grace period ends. */
async function drain(connections: Set<ClientConnection>, graceSeconds: number): Promise<void> {
  const deadline = performance.now() + graceSeconds * 1000;
  while (performance.now() < deadline) {
    for (const connection of connections) if (connection.idle) connection.close();
    if (connections.size === 0) return;
    await Bun.sleep(25);
  }
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
