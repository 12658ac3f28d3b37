/** Every answer that is not a success is a small JSON object with an `error` line. */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Problem } from "../rules/schema.ts";

export function jsonError(
  c: Context,
  status: ContentfulStatusCode,
  error: string,
  headers?: Record<string, string>,
): Response {
  return c.json({ error }, status, headers);
}

/** One line naming the first bad field, as a person reading a terminal wants it. */
export function summarise(what: string, problems: readonly Problem[]): string {
  const first = problems[0];
  if (!first) return `invalid ${what}`;
  const where = first.path.length > 0 ? ` at ${first.path.join("/")}` : "";
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
  return `invalid ${what}${where}: ${first.message}${more}`;
}

/** 400 with the summary and every problem, so a client can point at each field. */
export function invalid(c: Context, what: string, problems: readonly Problem[]): Response {
  return c.json({ error: summarise(what, problems), issues: problems }, 400);
}

export function notFound(c: Context, error = `no such path: ${new URL(c.req.url).pathname}`) {
  return jsonError(c, 404, error);
}

/** The registry rejects only when the state file could not be written; nothing changed then. */
export function saveFailed(c: Context, error: unknown): Response {
  const reason = error instanceof Error ? error.message : String(error);
  return jsonError(c, 500, `could not save the state file, nothing changed: ${reason}`);
}
