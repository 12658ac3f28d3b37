/** Request bodies are JSON; anything else is the client's error, answered before any change. */
import type { Context } from "hono";
import { jsonError } from "./errors.ts";

export type JsonBody = { ok: true; value: unknown } | { ok: false; response: Response };

export async function readJson(c: Context): Promise<JsonBody> {
  return parseJsonBody(c, await c.req.text());
}

export function parseJsonBody(c: Context, text: string): JsonBody {
  if (text.trim() === "") {
    return { ok: false, response: jsonError(c, 400, "invalid JSON: the request has no body") };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, response: jsonError(c, 400, `invalid JSON: ${reason}`) };
  }
}
