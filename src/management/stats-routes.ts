/** `/stats/` (every host's counters) and `/stats/<host>/` (one host's). */
import type { Context } from "hono";
import type { RuleRegistry } from "../rules/registry.ts";
import { HostStats, type StatsBook, type StatsRecord } from "../stats/host-stats.ts";
import { jsonError } from "./errors.ts";
import { byMethod } from "./methods.ts";
import { pathRest, withHost } from "./paths.ts";

const ZERO: StatsRecord = new HostStats().toJSON();

export function statsHandler(
  registry: RuleRegistry<unknown>,
  stats: StatsBook,
  refresh?: () => Promise<void>,
) {
  const all = byMethod({
    GET: (c) => {
      // A rule that has seen no traffic yet still shows, with zeros.
      const out: Record<string, StatsRecord> = {};
      for (const host of registry.keys()) out[host] = ZERO;
      return c.json(Object.assign(out, stats.toJSON()));
    },
  });

  const one = byMethod<[string]>({
    GET: withHost((c, host) => {
      const record = stats.get(host)?.toJSON() ?? (registry.has(host) ? ZERO : null);
      return record ? c.json(record) : jsonError(c, 404, `no rule and no stats for ${host}`);
    }),
  });

  return async (c: Context): Promise<Response> => {
    await refresh?.();
    const rest = pathRest(c, "/stats");
    return rest === null ? all(c) : one(c, rest);
  };
}
