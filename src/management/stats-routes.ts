/**
 * `/stats/` (every host's counters) and `/stats/<host>/` (one host's), each
 * with its live rates when the server keeps them; `/stats/?active` only the
 * hosts with requests open or traffic in the last minute.
 */
import type { Context } from "hono";
import type { RuleRegistry } from "../rules/registry.ts";
import { HostStats, type StatsBook, type StatsRecord } from "../stats/host-stats.ts";
import { type HostRates, hostRates } from "../stats/rate-view.ts";
import type { RateReport } from "../stats/rates.ts";
import { jsonError } from "./errors.ts";
import { byMethod } from "./methods.ts";
import { pathRest, withHost } from "./paths.ts";

const ZERO: StatsRecord = new HostStats().toJSON();
const NO_RATES: HostRates = hostRates(undefined);

/** The original's four counters, then the rates (absent when the server keeps none). */
export interface StatsView extends StatsRecord {
  rates?: HostRates;
}

export function statsHandler(
  registry: RuleRegistry<unknown>,
  stats: StatsBook,
  refresh?: () => Promise<void>,
  rates?: () => Promise<RateReport>,
) {
  /** The counters brought up to date (workers), and the rates. */
  const current = async (): Promise<RateReport | null> => {
    const [, report] = await Promise.all([refresh?.(), rates?.()]);
    return report ?? null;
  };

  const all = byMethod({
    GET: async (c) => {
      const report = await current();
      // A rule that has seen no traffic yet still shows, with zeros.
      let records: Record<string, StatsRecord> = {};
      for (const host of registry.keys()) records[host] = ZERO;
      Object.assign(records, stats.toJSON());
      if (c.req.query("active") !== undefined) {
        const recent = report?.hosts ?? {};
        const active = Object.entries(records).filter(
          ([host, record]) => record.open_requests > 0 || recent[host] !== undefined,
        );
        records = Object.fromEntries(active);
      }
      if (report === null) return c.json(records);
      const out: Record<string, StatsView> = {};
      for (const [host, record] of Object.entries(records)) {
        out[host] = withRates(record, report.hosts[host]);
      }
      return c.json(out);
    },
  });

  const one = byMethod<[string]>({
    GET: withHost(async (c, host) => {
      const report = await current();
      const record = stats.get(host)?.toJSON() ?? (registry.has(host) ? ZERO : null);
      if (record === null) return jsonError(c, 404, `no rule and no stats for ${host}`);
      return c.json(report === null ? record : withRates(record, report.hosts[host]));
    }),
  });

  return (c: Context): Response | Promise<Response> => {
    const rest = pathRest(c, "/stats");
    return rest === null ? all(c) : one(c, rest);
  };
}

function withRates(record: StatsRecord, totals: number[] | undefined): StatsView {
  return { ...record, rates: totals === undefined ? NO_RATES : hostRates(totals) };
}
