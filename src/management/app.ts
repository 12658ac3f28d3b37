/**
 * The management API: rules and counters as JSON over HTTP, as the original
 * Mantrid served them, and the backends the rules name.
 */
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import pkg from "../../package.json" with { type: "json" };
import { log } from "../log.ts";
import type { RuleRegistry } from "../rules/registry.ts";
import type { StatsBook } from "../stats/host-stats.ts";
import type { RateReport } from "../stats/rates.ts";
import type { StoreHealth } from "../store/etcd/health.ts";
import { refuseWritesWhileClosed, type WriteGate } from "../takeover/write-gate.ts";
import { requireToken } from "./auth.ts";
import { type BackendReporter, backendHandler } from "./backend-routes.ts";
import { type CertificateDeps, certificateHandler } from "./certificate-routes.ts";
import { dashboardHandler, isPublic, pageHandler, wantsPage } from "./dashboard/routes.ts";
import { DashboardSampler } from "./dashboard/sampler.ts";
import { jsonError, notFound } from "./errors.ts";
import { limitHead } from "./head-limit.ts";
import { HEALTH_PATHS, healthHandler, isHealth } from "./health-routes.ts";
import { hostnameHandler } from "./hostname-routes.ts";
import { byMethod } from "./methods.ts";
import { type MetricsSource, metricsHandler } from "./metrics-routes.ts";
import { statsHandler } from "./stats-routes.ts";

/** Large enough for a million rules in one `PUT /hostname/` (about 70 MB of JSON). */
export const DEFAULT_BODY_LIMIT = 256 * 1024 * 1024;

export interface ManagementDeps {
  registry: RuleRegistry<unknown>;
  stats: StatsBook;
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  token?: string | null;
  /** Largest accepted request body, in bytes. */
  bodyLimit?: number;
  /** Brings `stats` up to date before it is read (workers keep their own counters). */
  refreshStats?: () => Promise<void>;
  /** Backends as requests see them; without it every address shows up and idle. */
  backends?: BackendReporter;
  /** Live rates of hosts and backends; without it `/stats/` and `/backend/` show none. */
  rates?: () => Promise<RateReport>;
  /**
   * The planes' counters for `GET /metrics` and the dashboard's p99; without it
   * only the rule set's figures show. `false`: `metrics = false` in the config,
   * nothing is counted and `GET /metrics` answers 404.
   */
  metrics?: MetricsSource | false;
  /** The certificates TLS serves; without them there is no `/certificate/`. */
  certificates?: CertificateDeps;
  /** Closed while the state passes to another process: changes are refused (503). */
  writes?: WriteGate;
  /** The rule store's state for `GET /health`; without it the file store, ok. */
  health?: () => StoreHealth;
}

export function createManagementApp(deps: ManagementDeps): Hono {
  const app = new Hono();
  const limit = deps.bodyLimit ?? DEFAULT_BODY_LIMIT;

  app.onError((error, c) => {
    if (error instanceof HTTPException && error.status < 500) {
      return jsonError(c, error.status, error.message || "bad request");
    }
    log.error(`management: ${c.req.method} ${c.req.path} failed: ${String(error)}`);
    return jsonError(c, 500, "internal error");
  });
  app.notFound((c) => notFound(c));

  app.use(limitHead());
  if (deps.token) {
    // The dashboard page and its files hold no data; the page asks for the token.
    const auth = requireToken(deps.token);
    app.use((c, next) => (isPublic(c) || isHealth(c) ? next() : auth(c, next)));
  }
  if (deps.writes) app.use(refuseWritesWhileClosed(deps.writes));
  app.use(
    bodyLimit({
      maxSize: limit,
      onError: (c) => jsonError(c, 413, `the request body is larger than ${limit} bytes`),
    }),
  );

  const page = pageHandler(Boolean(deps.token));
  const about = (c: Context) => c.json({ name: "mantrid", version: pkg.version });
  app.all("/", byMethod({ GET: (c) => (wantsPage(c) ? page(c) : about(c)) }));
  const hostnames = hostnameHandler(deps.registry);
  const stats = statsHandler(deps.registry, deps.stats, deps.refreshStats, deps.rates);
  for (const path of ["/hostname", "/hostname/*"]) app.all(path, hostnames);
  for (const path of ["/stats", "/stats/*"]) app.all(path, stats);
  const backends = backendHandler(deps.registry, deps.backends, deps.rates);
  for (const path of ["/backend", "/backend/*"]) app.all(path, backends);
  const metrics = metricsHandler(deps.registry, deps.metrics);
  for (const path of ["/metrics", "/metrics/"]) app.all(path, metrics);
  for (const path of HEALTH_PATHS) app.all(path, healthHandler(deps.health));
  if (deps.certificates !== undefined) {
    const certificates = certificateHandler(deps.certificates);
    for (const path of ["/certificate", "/certificate/*"]) app.all(path, certificates);
  }
  const sampler = new DashboardSampler({ ...deps, metrics: deps.metrics || undefined });
  const dashboard = dashboardHandler(sampler, Boolean(deps.token));
  for (const path of ["/dashboard", "/dashboard/*"]) app.all(path, dashboard);
  return app;
}
