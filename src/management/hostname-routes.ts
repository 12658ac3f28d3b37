/** `/hostname/` (the whole rule set) and `/hostname/<host>/` (one rule). */
import type { Context } from "hono";
import { log } from "../log.ts";
import { RuleRefused, type RuleRegistry } from "../rules/registry.ts";
import { RuleSetStream } from "../rules/rule-set-json.ts";
import { type Parsed, parseRule, parseRuleSet, type RuleSet } from "../rules/schema.ts";
import { parseJsonBody, readJson, streamBody } from "./body.ts";
import { invalid, jsonError, saveFailed } from "./errors.ts";
import { byMethod } from "./methods.ts";
import { pathRest, withHost } from "./paths.ts";
import { clientOf } from "./who.ts";

const OK = { ok: true } as const;

export function hostnameHandler(registry: RuleRegistry<unknown>) {
  const collection = byMethod({
    GET: (c) => c.json(registry.all()),
    PUT: async (c) => {
      const parsed = await readRuleSet(c);
      if (parsed instanceof Response) return parsed;
      if (!parsed.ok) return invalid(c, "rule set", parsed.problems);
      try {
        await registry.replaceAll(parsed.value);
      } catch (error) {
        return refusedOrFailed(c, "rule set", error);
      }
      log.info(`rules replaced: ${parsed.value.size} rules (by ${clientOf(c)})`);
      return c.json(OK);
    },
  });

  const one = byMethod<[string]>({
    GET: withHost((c, host) => {
      const rule = registry.get(host);
      return rule ? c.json(rule) : noRule(c, host);
    }),
    PUT: withHost(async (c, host) => {
      const body = await readJson(c);
      if (!body.ok) return body.response;
      const parsed = parseRule(body.value);
      if (!parsed.ok) return invalid(c, "rule", parsed.problems);
      try {
        await registry.set(host, parsed.value);
      } catch (error) {
        return refusedOrFailed(c, "rule", error);
      }
      const subdomains = parsed.value.match_subdomains ? ", with subdomains" : "";
      log.info(`rule set ${host}: ${parsed.value.action}${subdomains} (by ${clientOf(c)})`);
      return c.json(OK);
    }),
    DELETE: withHost(async (c, host) => {
      let existed: boolean;
      try {
        existed = await registry.delete(host);
      } catch (error) {
        return saveFailed(c, error);
      }
      if (!existed) return noRule(c, host);
      log.info(`rule deleted ${host} (by ${clientOf(c)})`);
      return c.json(OK);
    }),
  });

  return (c: Context): Response | Promise<Response> => {
    const rest = pathRest(c, "/hostname");
    return rest === null ? collection(c) : one(c, rest);
  };
}

/**
 * The body as a rule set, or the answer to a body that is not JSON. A million
 * rules are read as they arrive, without an object per hostname; anything the
 * fast path declines goes the long way, which also words a JSON error.
 */
async function readRuleSet(c: Context): Promise<Parsed<RuleSet> | Response> {
  const stream = new RuleSetStream();
  const body = await streamBody(c, (text) => stream.push(text));
  const parsed = stream.end();
  if (parsed !== null) return parsed;
  const json = parseJsonBody(c, body.text());
  if (!json.ok) return json.response;
  // An array would pass as a record of index keys; a rule set is an object.
  if (typeof json.value !== "object" || json.value === null || Array.isArray(json.value)) {
    const message = "a rule set is a JSON object of hostname to [action, options, subdomains]";
    return invalid(c, "rule set", [{ path: [], message }]);
  }
  return parseRuleSet(json.value);
}

/** A rule that cannot work is the client's to fix (400); anything else is the state file's. */
function refusedOrFailed(c: Context, what: string, error: unknown): Response {
  return error instanceof RuleRefused ? invalid(c, what, error.problems) : saveFailed(c, error);
}

function noRule(c: Context, host: string): Response {
  return jsonError(c, 404, `no rule for ${host}`);
}
