/** Every answer that is not a success is a small JSON object with an `error` line. */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Problem } from "../rules/schema.ts";
import { SharedStoreError } from "../store/etcd/errors.ts";
import { WritesPaused, writesPausedResponse } from "../takeover/write-gate.ts";
import { summarise } from "./summary.ts";

export function jsonError(
  c: Context,
  status: ContentfulStatusCode,
  error: string,
  headers?: Record<string, string>,
): Response {
  return c.json({ error }, status, headers);
}

/** 400 with the summary and every problem, so a client can point at each field. */
export function invalid(
  c: Context,
  what: string,
  problems: readonly Problem[],
  error = summarise(what, problems),
): Response {
  return c.json({ error, issues: problems }, 400);
}

export function notFound(c: Context, error = `no such path: ${new URL(c.req.url).pathname}`) {
  return jsonError(c, 404, error);
}

/**
 * The registry rejects when the state file could not be written, or when it
 * is being handed to another process (503: send it again); nothing changed.
 */
export function saveFailed(c: Context, error: unknown): Response {
  if (error instanceof WritesPaused) return writesPausedResponse(error);
  // etcd did not take it: the message says why, and whether anything changed.
  if (error instanceof SharedStoreError) return jsonError(c, error.status, error.message);
  const reason = error instanceof Error ? error.message : String(error);
  return jsonError(c, 500, `could not save the state file, nothing changed: ${reason}`);
}
