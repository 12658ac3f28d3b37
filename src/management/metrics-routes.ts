/**
 * `GET /metrics`: Prometheus' text format, or OpenMetrics when the scraper's
 * `Accept` prefers it. The token, when one is set, applies as everywhere.
 * With `metrics = false` nothing is counted, and the path says so with a 404.
 */
import type { Context } from "hono";
import type { RuleRegistry } from "../rules/registry.ts";
import { CONTENT_TYPES, negotiate } from "../stats/metrics/exposition.ts";
import { renderMetrics } from "../stats/metrics/render.ts";
import { combine, type MetricsView } from "../stats/metrics/snapshot.ts";
import { notFound } from "./errors.ts";
import { byMethod } from "./methods.ts";

/** The figures of the planes (this process's, or every worker's summed). */
export type MetricsSource = () => Promise<MetricsView>;

export const METRICS_OFF =
  "metrics are off (metrics = false in the config): nothing is counted for /metrics";

/** `source`: false when metrics are off; absent, only the rule set's figures show. */
export function metricsHandler(registry: RuleRegistry<unknown>, source?: MetricsSource | false) {
  return byMethod({
    GET: async (c: Context) => {
      if (source === false) return notFound(c, METRICS_OFF);
      const format = negotiate(c.req.header("accept"));
      const view = source === undefined ? combine([], []) : await source();
      const figures = { rules: registry.size, generation: registry.generation };
      const body = new Blob(await renderMetrics(view, figures, format));
      return new Response(body, { headers: { "Content-Type": CONTENT_TYPES[format] } });
    },
  });
}
