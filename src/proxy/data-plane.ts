/**
 * The data plane of one process: the rule table the requests read, the
 * listeners, the backend pool and the timeout sweep. A single process runs it
 * beside the management API; with `workers`, each worker runs one of its own.
 */

import type { Action } from "../actions/action.ts";
import { type ActionContext, compileRule } from "../actions/compile.ts";
import { Router } from "../actions/router.ts";
import { SpinRoom } from "../actions/spin.ts";
import { builtinAnswers } from "../actions/static.ts";
import { HealthChecks } from "../backend/health-checks.ts";
import { HealthUse } from "../backend/health-use.ts";
import { sweepEjections } from "../backend/passive.ts";
import { BackendPool } from "../backend/pool.ts";
import { BackendStates } from "../backend/state.ts";
import { BackendWaits } from "../backend/waits.ts";
import { formatAddress, type ListenAddress } from "../config/address.ts";
import { type Config, ConfigError } from "../config/config.ts";
import { DEFAULT_LIMITS, type HeadLimits } from "../http/limits.ts";
import { RuleTable } from "../rules/table.ts";
import { PageStore } from "../static/pages.ts";
import type { StatsBook } from "../stats/host-stats.ts";
import { MetricsBook } from "../stats/metrics/book.ts";
import type { Observers } from "../stats/observers.ts";
import { RateBook } from "../stats/rates.ts";
import { bindRefusal } from "../system/bind-error.ts";
import { AlpnContexts } from "../tls/alpn/contexts.ts";
import { ChallengeRouter } from "../tls/challenge-router.ts";
import type { ChallengeBook } from "../tls/challenges.ts";
import { listenTls } from "../tls/listener.ts";
import { type CertificateFeed, SniContexts } from "../tls/sni.ts";
import { Forwarder } from "./forwarder.ts";
import { type Listening, listen } from "./listener.ts";
import type { ListenerContext, OpenConnection } from "./listener-context.ts";
import { Spares } from "./spares.ts";
import { connectionTimeouts, startSweep } from "./sweep.ts";

export interface DataPlane {
  readonly table: RuleTable<Action>;
  /** Bound ports, in the order of the configured addresses (useful with port 0). */
  readonly ports: PlanePorts;
  /** `bind`, then `bind_internal`, then `bind_tls` listeners. */
  readonly listeners: Listening[];
  /** What is known of each backend address; an operator's drain or disable is set here. */
  readonly backends: BackendStates;
  /** Client connections open now, lingering ones included. */
  readonly openConnections: number;
  /** Requests and bytes per second of each host and backend, sampled every second. */
  readonly rates: RateBook;
  /** Counters, histograms and gauges for `GET /metrics`. */
  readonly metrics: MetricsBook;
  /** Stops accepting, lets open requests finish within `graceSeconds`, closes the rest. */
  stop(graceSeconds: number): Promise<void>;
}

export interface PlanePorts {
  bind: number[];
  internal: number[];
  tls: number[];
}

export interface DataPlaneOptions {
  /** Share each port with other processes (workers); the ports must then be fixed. */
  reusePort: boolean;
  /** Told of each request as it ends (metrics, the access log); the plane adds its rates. */
  observers?: Observers;
  /** The certificates `bind_tls` listeners serve (none when absent). */
  certificates?: CertificateFeed;
  /** ACME answers: http-01 for plain listeners, tls-alpn-01 for TLS ones (none when absent). */
  challenges?: ChallengeBook;
}

export function startDataPlane(
  config: Config,
  stats: StatsBook,
  options: DataPlaneOptions,
): DataPlane {
  const limits: HeadLimits = {
    maxRequestLine: config.maxRequestLine,
    maxHeadSize: config.maxHeadSize,
    maxHeaders: config.maxHeaders,
  };
  const pages = new PageStore(config.staticDir);
  const answers = builtinAnswers(pages);
  const pool = new BackendPool({ idleTimeout: config.idleTimeout, maxIdlePerBackend: 1024 });
  const states = new BackendStates();
  const waits = new BackendWaits(states);
  const context: ActionContext = {
    pages,
    answers,
    built: new WeakMap(),
    forward: new Forwarder({
      pool,
      states,
      waits,
      connectTimeout: config.connectTimeout,
      backendTimeout: config.backendTimeout,
      timeoutPage: pages.builtin("timeout"),
      // Backends are trusted more than clients, but a head must still fit in memory.
      limits: { ...DEFAULT_LIMITS, maxHeadSize: Math.max(65536, limits.maxHeadSize) },
    }),
    spin: null,
    https: { port: 443 },
  };
  // A drained or disabled backend keeps no idle connection: none may be reused.
  states.onChange((state) => {
    if (state.admin !== "enabled") pool.closeIdle(state.key);
  });
  const checks = new HealthChecks(states);
  const table = new RuleTable<Action>(
    (_key, rule) => compileRule(context, rule),
    new HealthUse(checks),
  );
  const router = new Router(table, stats, answers);
  context.spin = new SpinRoom(router, pages.builtin("timeout"), config.maxSpinning, (listener) =>
    table.onChange(listener),
  );

  const rates = new RateBook(stats, states);
  options.observers?.add(rates);

  const connections = new Set<OpenConnection>();
  const metrics = new MetricsBook(stats, states, {
    openConnections: () => connections.size,
    spinning: () => context.spin?.size ?? 0,
    waiting: () => waits.size,
  });
  // `metrics = false`: the book stays (empty) but counts nothing, at no cost per request.
  if (config.metrics) options.observers?.add(metrics);
  const timeouts = connectionTimeouts(config);
  const challenges = options.challenges;
  const external: ListenerContext = {
    internal: false,
    tls: false,
    router: challenges === undefined ? router : new ChallengeRouter(challenges, router),
    limits,
    connections,
    maxConnections: config.maxConnections,
    spares: new Spares(),
    timeouts,
    observer: options.observers ?? rates,
  };
  const internal: ListenerContext = { ...external, internal: true };
  // ACME challenges come over plain HTTP only.
  const secure: ListenerContext = { ...external, tls: true, router };
  const sni = config.bindTls.length === 0 ? null : sniContexts(config);
  const unfollowCertificates =
    sni === null || options.certificates === undefined
      ? () => {}
      : sni.follow(options.certificates);
  // tls-alpn-01 is answered on the TLS listeners, from the same book as http-01.
  const alpn = sni === null || challenges === undefined ? null : new AlpnContexts(challenges);
  const unfollow = () => {
    unfollowCertificates();
    alpn?.stop();
  };
  const listeners: Listening[] = [];
  try {
    for (const address of config.bind) {
      listeners.push(bindOrExplain(address, external, options, "bind", "--bind"));
    }
    for (const address of config.bindInternal) {
      listeners.push(bindOrExplain(address, internal, options, "bind_internal", "--bind-internal"));
    }
    for (const address of config.bindTls) {
      try {
        listeners.push(listenTls(address, secure, sni!, options.reusePort, alpn));
      } catch (error) {
        throw bindRefusal(error, address.text, "bind_tls", "--bind-tls");
      }
    }
  } catch (error) {
    unfollow();
    for (const listener of listeners) listener.stop(true);
    throw error;
  }
  // `redirect_https` sends clients to the first TLS listener, as bound (port 0 too).
  const firstTls = listeners[config.bind.length + config.bindInternal.length];
  if (firstTls !== undefined) context.https.port = firstTls.port;
  const stopSweep = startSweep(connections, pool, timeouts, () =>
    // Passive ejection counts in wall-clock time, as failures are reported.
    sweepEjections(states, Date.now(), (key) => checks.has(key)),
  );
  const stopRates = rates.start();
  const bindCount = config.bind.length;
  const plainCount = bindCount + config.bindInternal.length;
  return {
    table,
    listeners,
    backends: states,
    rates,
    metrics,
    get openConnections() {
      return connections.size;
    },
    ports: {
      bind: listeners.slice(0, bindCount).map((listener) => listener.port),
      internal: listeners.slice(bindCount, plainCount).map((listener) => listener.port),
      tls: listeners.slice(plainCount).map((listener) => listener.port),
    },
    async stop(graceSeconds) {
      for (const listener of listeners) listener.stop(false);
      await drain(connections, graceSeconds);
      for (const connection of connections) connection.abort();
      stopSweep();
      stopRates();
      unfollow();
      checks.stopAll();
      pool.closeAll();
      for (const listener of listeners) listener.stop(true);
    },
  };
}

/** One log line per listener (host, port), in the plane's order: `bind`, `bind_internal`, `bind_tls`. */
export function listeningLines(config: Config, listeners: [string, number][]): string[] {
  const internalFrom = config.bind.length;
  const tlsFrom = internalFrom + config.bindInternal.length;
  return listeners.map(([host, port], i) => {
    const kind = i >= tlsFrom ? " (TLS)" : i >= internalFrom ? " (trusted: bind_internal)" : "";
    return `listening on ${formatAddress(host, port)}${kind}`;
  });
}

/** The certificate table of the TLS listeners; a `tls_ciphers` OpenSSL refuses stops start-up. */
function sniContexts(config: Config): SniContexts {
  try {
    return new SniContexts(
      { minVersion: config.tlsMinVersion, ciphers: config.tlsCiphers },
      config.tlsDefault,
    );
  } catch (error) {
    throw new ConfigError(`tls_ciphers: ${(error as Error).message}`);
  }
}

function bindOrExplain(
  address: ListenAddress,
  context: ListenerContext,
  options: DataPlaneOptions,
  option: string,
  flag: string,
): Listening {
  try {
    return listen(address, context, options.reusePort);
  } catch (error) {
    throw bindRefusal(error, address.text, option, flag);
  }
}

/** How long a shutdown waits for the first request of a connection that has sent nothing yet. */
const FIRST_REQUEST_MS = 1000;

/** Waits until every connection is between requests, or the grace period ends. */
async function drain(connections: Set<OpenConnection>, graceSeconds: number): Promise<void> {
  const start = performance.now();
  const deadline = start + graceSeconds * 1000;
  while (performance.now() < deadline) {
    // A connection accepted just before the listener closed has its first request on the way.
    const patient = performance.now() - start < FIRST_REQUEST_MS;
    for (const connection of connections) {
      if (connection.idle && !(patient && connection.fresh)) connection.close();
    }
    if (connections.size === 0) return;
    await Bun.sleep(25);
  }
}
