/**
 * Hostnames in paths. Keys may carry a protocol (`http://ep.io`), which
 * arrives raw or percent-encoded; a router parameter would split the raw form
 * at its slashes, so the rest of the raw path is taken whole.
 */
import type { Context } from "hono";
import { parseHostname } from "../rules/schema.ts";
import { invalid } from "./errors.ts";

/** What follows `prefix/`, one trailing slash dropped; null when the path is the collection. */
export function pathRest(c: Context, prefix: string): string | null {
  const path = new URL(c.req.url).pathname;
  if (path === prefix || path === `${prefix}/`) return null;
  const rest = path.slice(prefix.length + 1);
  return rest.endsWith("/") ? rest.slice(0, -1) : rest;
}

export type HostFromPath = { ok: true; host: string } | { ok: false; response: Response };

/** Decodes and canonicalises; a bad encoding or name is the client's error, at `hostname`. */
export function hostFromPath(c: Context, rest: string): HostFromPath {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    const message = "the hostname is not valid percent-encoding";
    const problems = [{ path: ["hostname"], message }];
    return { ok: false, response: invalid(c, "hostname", problems, `${message}: ${rest}`) };
  }
  const parsed = parseHostname(decoded);
  if (parsed.ok) return { ok: true, host: parsed.value };
  const problems = parsed.problems.map((p) => ({ ...p, path: ["hostname", ...p.path] }));
  const error = `invalid hostname ${JSON.stringify(decoded)}: ${problems[0]?.message}`;
  return { ok: false, response: invalid(c, "hostname", problems, error) };
}

type HostHandler = (c: Context, host: string) => Response | Promise<Response>;

/** Adapts a handler of a canonical host to one of the raw path rest. */
export function withHost(
  handler: HostHandler,
): (c: Context, rest: string) => Response | Promise<Response> {
  return (c, rest) => {
    const target = hostFromPath(c, rest);
    return target.ok ? handler(c, target.host) : target.response;
  };
}
