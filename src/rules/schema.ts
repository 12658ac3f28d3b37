/**
 * The shapes of rules, as valibot schemas: the single source of truth for the
 * management API, the state-file loader and the client.
 *
 * A rule travels as the original triple `[action, options, match_subdomains]`.
 * Values typed on a command line arrive as strings, so the numeric options and
 * `backends` accept the string forms the original client produced and are
 * normalised here: whatever comes in, what is stored is canonical.
 */
import * as v from "valibot";
import { canonicalHostname, Hostname, quickHostname } from "./hostname.ts";
import {
  type Backend,
  Backends,
  EmptyOptions,
  NoOptions,
  ProxyOptions,
  RedirectOptions,
  SpinOptions,
  StaticOptions,
} from "./options.ts";

export const ACTION_NAMES = [
  "proxy",
  "static",
  "redirect",
  "empty",
  "spin",
  "unknown",
  "no_hosts",
] as const;
export type ActionName = (typeof ACTION_NAMES)[number];

export type { Backend };
export {
  Backends,
  canonicalHostname,
  EmptyOptions,
  Hostname,
  NoOptions,
  ProxyOptions,
  RedirectOptions,
  SpinOptions,
  StaticOptions,
};

const Options = v.record(v.string(), v.unknown(), "options must be an object");

/** The triple as it travels, turned into named fields so errors can name `options.code`. */
export const Rule = v.pipe(
  v.strictTuple(
    [
      v.picklist(ACTION_NAMES, `action must be one of ${ACTION_NAMES.join(", ")}`),
      v.optional(Options, {}),
      v.boolean("match_subdomains must be true or false"),
    ],
    "a rule is [action, options, match_subdomains]",
  ),
  v.transform(([action, options, match_subdomains]) => ({ action, options, match_subdomains })),
  v.variant("action", [
    v.object({ action: v.literal("proxy"), options: ProxyOptions, match_subdomains: v.boolean() }),
    v.object({
      action: v.literal("static"),
      options: StaticOptions,
      match_subdomains: v.boolean(),
    }),
    v.object({
      action: v.literal("redirect"),
      options: RedirectOptions,
      match_subdomains: v.boolean(),
    }),
    v.object({ action: v.literal("empty"), options: EmptyOptions, match_subdomains: v.boolean() }),
    v.object({ action: v.literal("spin"), options: SpinOptions, match_subdomains: v.boolean() }),
    v.object({ action: v.literal("unknown"), options: NoOptions, match_subdomains: v.boolean() }),
    v.object({ action: v.literal("no_hosts"), options: NoOptions, match_subdomains: v.boolean() }),
  ]),
  // ACME's http-01 proves one hostname; subdomains would need *.example.com.
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed || dataset.value.options.tls !== "auto" || !dataset.value.match_subdomains)
      return;
    const { options } = dataset.value;
    addIssue({
      message:
        'tls "auto" obtains a certificate for the hostname alone, and ACME\'s http-01 cannot ' +
        "prove a wildcard (*.example.com) for its subdomains: set match_subdomains to false, " +
        "or give a wildcard certificate through the API or cert_dir",
      path: [
        { type: "object", origin: "value", input: dataset.value, key: "options", value: options },
        { type: "object", origin: "value", input: options, key: "tls", value: options.tls },
      ],
    });
  }),
);
export type Rule = v.InferOutput<typeof Rule>;
export type RuleTriple = [ActionName, Record<string, unknown>, boolean];

/** The whole rule set: hostname → rule (validated by `parseRuleSet` or `parseRuleSetJson`). */
export type RuleSet = Map<string, Rule>;
/** Rules as key and rule, in no particular order: a rule set, or the table's rules. */
export type RuleEntries = Iterable<readonly [key: string, rule: Rule]>;

const triples = new WeakMap<Rule, RuleTriple>();

/**
 * Back to the stored, original form. Rules are never changed once parsed, so
 * a rule shared by many hostnames gives them one triple too.
 */
export function toTriple(rule: Rule): RuleTriple {
  let triple = triples.get(rule);
  if (triple === undefined) {
    triple = [rule.action, rule.options as Record<string, unknown>, rule.match_subdomains];
    triples.set(rule, triple);
  }
  return triple;
}

export interface Problem {
  path: string[];
  message: string;
}

/** valibot issues as `{path, message}`; hostnames hold dots, so paths stay arrays. */
export function problems(issues: readonly v.BaseIssue<unknown>[]): Problem[] {
  return issues.map((issue) => ({
    path: (issue.path ?? []).map((item) => String((item as { key: unknown }).key)),
    message: issue.message,
  }));
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problems: Problem[] };

const TRIPLE_FIELDS: Record<string, string> = {
  "0": "action",
  "1": "options",
  "2": "match_subdomains",
};

/** Names the triple's positions, so a problem reads `action`, not `0`. */
function nameTriple(problem: Problem, at: number): Problem {
  const field = TRIPLE_FIELDS[problem.path[at] ?? ""];
  if (field === undefined) return problem;
  const path = [...problem.path];
  path[at] = field;
  return { ...problem, path };
}

export function parseRule(input: unknown): Parsed<Rule> {
  const result = v.safeParse(Rule, input);
  return result.success
    ? { ok: true, value: result.output }
    : { ok: false, problems: problems(result.issues).map((p) => nameTriple(p, 0)) };
}

export function parseHostname(input: unknown): Parsed<string> {
  const result = v.safeParse(Hostname, input);
  return result.success
    ? { ok: true, value: result.output }
    : { ok: false, problems: problems(result.issues) };
}

/**
 * Builds a rule set member by member. Large sets repeat the same few rules
 * under many names (a million hosts on a handful of backend pools), so callers
 * validate each distinct rule once and hand the shared result to `add`:
 * loading a million rules then costs a key per rule, not a full validation.
 */
export class RuleSetBuilder {
  private readonly rules: RuleSet = new Map();
  /** By name as written: a name given again replaces what was said of it, as in JSON. */
  private readonly found = new Map<string, Problem[]>();

  add(name: string, rule: Parsed<Rule>): void {
    if (this.found.size > 0) this.found.delete(name);
    // The schema's own checks, spelled out for speed on the common, valid name.
    let host = quickHostname(name);
    if (host === null) {
      const parsed = v.safeParse(Hostname, name);
      if (!parsed.success) {
        this.found.set(
          name,
          problems(parsed.issues).map((problem) => ({ ...problem, path: [name] })),
        );
        return;
      }
      host = parsed.output;
    }
    if (rule.ok) this.rules.set(host, rule.value);
    else {
      const found = rule.problems.map((problem) => ({ ...problem, path: [name, ...problem.path] }));
      this.found.set(name, found);
    }
  }

  result(): Parsed<RuleSet> {
    return this.found.size === 0
      ? { ok: true, value: this.rules }
      : { ok: false, problems: [...this.found.values()].flat() };
  }
}

/** A whole rule set, from an object of hostname to triple (see `parseRuleSetJson` for text). */
export function parseRuleSet(input: unknown): Parsed<RuleSet> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return {
      ok: false,
      problems: [{ path: [], message: "a rule set is an object of hostname: rule" }],
    };
  }
  const seen = new Map<string, Parsed<Rule>>();
  const builder = new RuleSetBuilder();
  for (const [name, triple] of Object.entries(input)) {
    const key = JSON.stringify(triple);
    let rule = seen.get(key);
    if (rule === undefined) {
      rule = parseRule(triple);
      seen.set(key, rule);
    }
    builder.add(name, rule);
  }
  return builder.result();
}

/** The stored form of a rule set: what the API answers and workers are sent. */
export function toTriples(rules: RuleEntries): Record<string, RuleTriple> {
  const out: Record<string, RuleTriple> = {};
  for (const [key, rule] of rules) out[key] = toTriple(rule);
  return out;
}
