/** Dispatch on the method for one path, answering 405 with `Allow` for the others. */
import type { Context } from "hono";
import { jsonError } from "./errors.ts";

type Method = "GET" | "PUT" | "DELETE";
type Handler<Args extends unknown[]> = (c: Context, ...args: Args) => Response | Promise<Response>;

export function byMethod<Args extends unknown[] = []>(
  handlers: Partial<Record<Method, Handler<Args>>>,
): Handler<Args> {
  // Hono answers HEAD by running the GET route and dropping the body.
  const allow = Object.keys(handlers)
    .flatMap((name) => (name === "GET" ? ["GET", "HEAD"] : [name]))
    .join(", ");
  return (c, ...args) => {
    const method = c.req.method === "HEAD" ? "GET" : c.req.method;
    const handler = handlers[method as Method];
    if (!handler) {
      return jsonError(c, 405, `${c.req.method} is not allowed here; use ${allow}`, {
        Allow: allow,
      });
    }
    return handler(c, ...args);
  };
}
