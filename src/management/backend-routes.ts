/**
 * `/backend/` (every backend address some proxy rule names) and
 * `/backend/<host:port>/` (one of them; `PUT` drains, disables or enables it).
 * Which rules name an address is found on each request by going through the
 * rules, so it is never out of date.
 */
import type { Context } from "hono";
import { parseAdminRequest, parseBackendKey } from "../backend/admin.ts";
import { addressOf } from "../backend/members.ts";
import { type BackendReport, reportAll } from "../backend/report.ts";
import { type AdminState, BackendStates } from "../backend/state.ts";
import type { RuleRegistry } from "../rules/registry.ts";
import type { Rule } from "../rules/schema.ts";
import { type BackendRates, backendRates } from "../stats/rate-view.ts";
import type { RateReport } from "../stats/rates.ts";
import { readJson } from "./body.ts";
import { invalid, jsonError, saveFailed } from "./errors.ts";
import { byMethod } from "./methods.ts";
import { pathRest } from "./paths.ts";

/** Backend addresses as requests see them (in this process, or merged over the workers). */
export type BackendReporter = (keys: string[]) => Promise<Record<string, BackendReport>>;

/** What `GET /backend/` says of one address. */
export interface BackendView {
  state: "up" | "down" | "draining" | "disabled";
  since: string;
  check: { ok: boolean; status: number; ms: number; at: string; error?: string } | null;
  active: number;
  requests: number;
  failures: number;
  rules: string[];
  /** Live rates, when the server keeps them. */
  rates?: BackendRates;
}

export function backendHandler(
  registry: RuleRegistry<unknown>,
  reporter?: BackendReporter,
  rates?: () => Promise<RateReport>,
) {
  // Without a data plane (a management API alone), every address is up and idle.
  const local = new BackendStates();
  const report = reporter ?? (async (keys: string[]) => reportAll(local, keys));
  const recent = async () => (rates === undefined ? null : (await rates()).backends);

  const all = byMethod({
    GET: async (c) => {
      const users = backendUsers(registry);
      const keys = [...users.keys()].sort();
      const [reports, moving] = await Promise.all([report(keys), recent()]);
      const out: Record<string, BackendView> = {};
      for (const key of keys) {
        const one = view(registry.backends.get(key), reports[key]!, users.get(key)!);
        if (moving !== null) one.rates = backendRates(moving[key]);
        out[key] = one;
      }
      return c.json(out);
    },
  });

  const one = byMethod<[string]>({
    GET: async (c, key) => {
      const hosts = backendUsers(registry).get(key);
      if (hosts === undefined) return noBackend(c, key);
      const [reports, moving] = await Promise.all([report([key]), recent()]);
      const one = view(registry.backends.get(key), reports[key]!, hosts);
      if (moving !== null) one.rates = backendRates(moving[key]);
      return c.json(one);
    },
    PUT: async (c, key) => {
      if (!backendUsers(registry).has(key)) return noBackend(c, key);
      const body = await readJson(c);
      if (!body.ok) return body.response;
      const parsed = parseAdminRequest(body.value);
      if (!parsed.ok) return invalid(c, "backend state", parsed.problems);
      try {
        await registry.setBackend(key, parsed.value);
      } catch (error) {
        return saveFailed(c, error);
      }
      // Applied everywhere by now: what is still in flight there will finish.
      const now = (await report([key]))[key]!;
      return c.json({ state: stateName(registry.backends.get(key), now), in_flight: now.active });
    },
  });

  return (c: Context): Response | Promise<Response> => {
    const rest = pathRest(c, "/backend");
    if (rest === null) return all(c);
    let text: string;
    try {
      text = decodeURIComponent(rest);
    } catch {
      const message = "the address is not valid percent-encoding";
      return invalid(c, "address", [{ path: ["address"], message }], `${message}: ${rest}`);
    }
    const key = parseBackendKey(text);
    if (!key.ok) {
      const error = `invalid address ${JSON.stringify(text)}: ${key.problems[0]!.message}`;
      return invalid(c, "address", key.problems, error);
    }
    return one(c, key.value);
  };
}

/** Each backend address named by a proxy rule, with the hostnames of those rules, sorted. */
export function backendUsers(registry: RuleRegistry<unknown>): Map<string, string[]> {
  const users = new Map<string, string[]>();
  // Many hostnames share one rule object: its addresses are worked out once.
  const keysOf = new Map<Rule, string[]>();
  for (const [host, rule] of registry.entries()) {
    if (rule.action !== "proxy") continue;
    let keys = keysOf.get(rule);
    if (keys === undefined) {
      keys = [...new Set(rule.options.backends.map((backend) => addressOf(backend).key))];
      keysOf.set(rule, keys);
    }
    for (const key of keys) {
      const hosts = users.get(key);
      if (hosts === undefined) users.set(key, [host]);
      else hosts.push(host);
    }
  }
  for (const hosts of users.values()) hosts.sort();
  return users;
}

function stateName(admin: AdminState, report: BackendReport): BackendView["state"] {
  return admin === "enabled" ? report.health : admin;
}

/** The admin state is the primary's, the rest what requests saw. */
function view(admin: AdminState, report: BackendReport, rules: string[]): BackendView {
  const check = report.check;
  return {
    state: stateName(admin, report),
    since: new Date(report.since).toISOString(),
    check: check && {
      ok: check.ok,
      status: check.status,
      ms: check.ms,
      at: new Date(check.at).toISOString(),
      ...(check.error === undefined ? {} : { error: check.error }),
    },
    active: report.active,
    requests: report.requests,
    failures: report.failures,
    rules,
  };
}

function noBackend(c: Context, key: string): Response {
  return jsonError(c, 404, `no proxy rule names the backend ${key}`);
}
