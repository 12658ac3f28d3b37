/**
 * The management API: rules and counters as JSON over HTTP, as the original
 * Mantrid served them, and the backends the rules name.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import pkg from "../../package.json" with { type: "json" };
import { log } from "../log.ts";
import type { RuleRegistry } from "../rules/registry.ts";
import type { StatsBook } from "../stats/host-stats.ts";
import { requireToken } from "./auth.ts";
import { type BackendReporter, backendHandler } from "./backend-routes.ts";
import { jsonError, notFound } from "./errors.ts";
import { limitHead } from "./head-limit.ts";
import { hostnameHandler } from "./hostname-routes.ts";
import { byMethod } from "./methods.ts";
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
  if (deps.token) app.use(requireToken(deps.token));
  app.use(
    bodyLimit({
      maxSize: limit,
      onError: (c) => jsonError(c, 413, `the request body is larger than ${limit} bytes`),
    }),
  );

  app.all("/", byMethod({ GET: (c) => c.json({ name: "mantrid", version: pkg.version }) }));
  const hostnames = hostnameHandler(deps.registry);
  const stats = statsHandler(deps.registry, deps.stats, deps.refreshStats);
  for (const path of ["/hostname", "/hostname/*"]) app.all(path, hostnames);
  for (const path of ["/stats", "/stats/*"]) app.all(path, stats);
  const backends = backendHandler(deps.registry, deps.backends);
  for (const path of ["/backend", "/backend/*"]) app.all(path, backends);
  return app;
}
