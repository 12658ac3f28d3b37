/**
 * `GET /health`: where the rules are kept and whether that store answers:
 * `{"store": "file", "state": "ok"}`, or for etcd
 * `{"store": "etcd", "state": "ok" | "unreachable", "since": ISO time, "revision": n}`.
 * It is answered without the management token: a load balancer or an
 * orchestrator probes it, and it tells nothing of the rules.
 */
import type { Context } from "hono";
import { FILE_STORE_HEALTH, type StoreHealth } from "../store/etcd/health.ts";
import { byMethod } from "./methods.ts";

export const HEALTH_PATHS = ["/health", "/health/"];

export function healthHandler(health: (() => StoreHealth) | undefined) {
  return byMethod({ GET: (c) => c.json(health?.() ?? FILE_STORE_HEALTH) });
}

/** The one route a token does not guard. */
export function isHealth(c: Context): boolean {
  return HEALTH_PATHS.includes(c.req.path);
}
