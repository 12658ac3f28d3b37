/**
 * The dashboard: `GET /` from a browser (a request that accepts HTML) and
 * `/dashboard/` serve the page, `/dashboard/<file>` its files, all without the
 * token; `/dashboard/stream` is the data, one Server-Sent Events stream, and
 * needs the token like every other route (`Authorization: Bearer`, sent by
 * the page's `fetch`).
 */
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { notFound } from "../errors.ts";
import { byMethod } from "../methods.ts";
import { dashboardAsset, dashboardPage, isDashboardAsset } from "./assets.ts";
import type { Sample } from "./sample.ts";
import type { DashboardSampler } from "./sampler.ts";

export const STREAM_PATH = "/dashboard/stream";

/** Samples a slow reader has not taken yet before the next ones are dropped. */
const MAX_PENDING = 5;

const PAGE_HEADERS = {
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-cache",
};

/** A browser asking for `/`: its Accept names HTML. API clients keep the JSON answer. */
export function wantsPage(c: Context): boolean {
  return (c.req.header("accept") ?? "").includes("text/html");
}

/** The page and its files, which need no token (they hold no data). */
export function isPublic(c: Context): boolean {
  if (c.req.method !== "GET" && c.req.method !== "HEAD") return false;
  const path = c.req.path;
  if (path === "/") return wantsPage(c);
  if (path === "/dashboard" || path === "/dashboard/") return true;
  return path.startsWith("/dashboard/") && isDashboardAsset(path.slice("/dashboard/".length));
}

export function pageHandler(tokenRequired: boolean) {
  return (c: Context): Response => {
    return c.html(dashboardPage(tokenRequired), 200, PAGE_HEADERS);
  };
}

/** `/dashboard`, `/dashboard/` (the page), `/dashboard/<file>` and the stream. */
export function dashboardHandler(sampler: DashboardSampler, tokenRequired: boolean) {
  const page = pageHandler(tokenRequired);
  const stream = (c: Context) =>
    streamSSE(c, async (sse) => {
      let pending = 0;
      const send = (event: string, data: unknown) => {
        pending++;
        return sse.writeSSE({ event, data: JSON.stringify(data) }).finally(() => pending--);
      };
      const closed = new Promise<void>((resolve) => sse.onAbort(resolve));
      const subscription = sampler.subscribe((sample: Sample) => {
        if (pending < MAX_PENDING) void send("sample", sample);
      });
      try {
        await send("hello", subscription.hello);
        if (subscription.latest !== null) await send("sample", subscription.latest);
        await closed;
      } finally {
        subscription.stop();
      }
    });

  return byMethod({
    GET: (c) => {
      const path = c.req.path.replace(/\/$/, "");
      if (path === "/dashboard") return page(c);
      if (path === STREAM_PATH) return stream(c);
      const asset = dashboardAsset(path.slice("/dashboard/".length));
      if (asset === undefined) return notFound(c);
      return c.body(asset.body, 200, {
        "Content-Type": asset.type,
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
      });
    },
  });
}
