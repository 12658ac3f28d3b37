/**
 * `GET /metrics`: Prometheus' text format, or OpenMetrics when the scraper's
 * `Accept` prefers it. The token, when one is set, applies as everywhere.
 */
import type { Context } from "hono";
import type { RuleRegistry } from "../rules/registry.ts";
import { CONTENT_TYPES, negotiate } from "../stats/metrics/exposition.ts";
import { renderMetrics } from "../stats/metrics/render.ts";
import { combine, type MetricsView } from "../stats/metrics/snapshot.ts";
import { byMethod } from "./methods.ts";

/** The figures of the planes (this process's, or every worker's summed). */
export type MetricsSource = () => Promise<MetricsView>;

export function metricsHandler(registry: RuleRegistry<unknown>, source?: MetricsSource) {
  return byMethod({
    GET: async (c: Context) => {
      const format = negotiate(c.req.header("accept"));
      const view = source === undefined ? combine([], []) : await source();
      const figures = { rules: registry.size, generation: registry.generation };
      const body = new Blob(await renderMetrics(view, figures, format));
      return new Response(body, { headers: { "Content-Type": CONTENT_TYPES[format] } });
    },
  });
}
