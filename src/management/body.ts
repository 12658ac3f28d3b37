/** Request bodies are JSON; anything else is the client's error, answered before any change. */
import type { Context } from "hono";
import { invalid } from "./errors.ts";

export type JsonBody = { ok: true; value: unknown } | { ok: false; response: Response };

export async function readJson(c: Context): Promise<JsonBody> {
  return parseJsonBody(c, await c.req.text());
}

export function parseJsonBody(c: Context, text: string): JsonBody {
  if (text.trim() === "") return { ok: false, response: notJson(c, "the request has no body") };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return {
      ok: false,
      response: notJson(c, error instanceof Error ? error.message : String(error)),
    };
  }
}

/** A 400 like every other: the reason in `error` and as the one issue, at the body itself. */
function notJson(c: Context, reason: string): Response {
  return invalid(c, "JSON", [{ path: [], message: reason }]);
}
