/** The management token, checked on every request when one is configured. */
import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { jsonError } from "./errors.ts";

const CHALLENGE = { "WWW-Authenticate": "Bearer" };

/** Hashing first gives equal lengths, so the comparison leaks neither content nor length. */
function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

export function requireToken(token: string): MiddlewareHandler {
  const expected = digest(token);
  return async (c, next) => {
    const header = c.req.header("authorization");
    if (header === undefined) {
      return jsonError(
        c,
        401,
        "a token is required: send Authorization: Bearer <token>",
        CHALLENGE,
      );
    }
    const match = /^Bearer +(\S+) *$/i.exec(header);
    if (!match || !timingSafeEqual(digest(match[1]!), expected)) {
      return jsonError(c, 401, "invalid token", CHALLENGE);
    }
    await next();
  };
}
