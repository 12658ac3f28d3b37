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

/** A DNS label: letters, digits and `-`, 1 to 63 characters. */
const LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
const HOSTNAME_RE = new RegExp(`^(?:https?://)?(?:${LABEL}\\.)*${LABEL}\\.?$`);

/** Lower-case, without a trailing dot: the form rules are stored and looked up in. */
export function canonicalHostname(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}

/** A rule's key: a hostname, optionally prefixed by `http://` or `https://`. */
/** 253 characters, plus room for an `https://` prefix. */
const HOSTNAME_MAX = 261;

export const Hostname = v.pipe(
  v.string("a hostname must be a string"),
  v.maxLength(HOSTNAME_MAX, "a hostname is at most 253 characters"),
  v.regex(
    HOSTNAME_RE,
    "a hostname is dot-separated labels of letters, digits and '-', optionally prefixed by http:// or https://",
  ),
  v.transform(canonicalHostname),
);

/** A number, or a string holding one (as the command line sends it). */
function numeric(message: string) {
  return v.pipe(
    v.union(
      [
        v.number(message),
        v.pipe(
          v.string(message),
          v.trim(),
          v.regex(/^-?\d+(?:\.\d+)?$/, message),
          v.transform(Number),
        ),
      ],
      message,
    ),
    v.finite(message),
  );
}

const Seconds = v.pipe(
  numeric("must be a number of seconds"),
  v.minValue(0, "must not be negative"),
);
const PositiveSeconds = v.pipe(
  numeric("must be a number of seconds"),
  v.gtValue(0, "must be greater than 0"),
);

const BACKEND_HOST_RE =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/;
const BackendHost = v.pipe(
  v.string("a backend host must be a string"),
  v.regex(BACKEND_HOST_RE, "a backend host is a hostname, an IPv4 or an IPv6 address"),
);
const Port = v.pipe(
  numeric("a port must be a number"),
  v.integer("a port must be an integer"),
  v.minValue(1, "a port is 1 to 65535"),
  v.maxValue(65535, "a port is 1 to 65535"),
);

export type Backend = [host: string, port: number];

/** `"host:port"` or `"[::1]:8000"` into its parts; the port stays a string for `Port`. */
function splitHostPort(text: string): [string, string] | null {
  const trimmed = text.trim();
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(trimmed);
  if (bracketed) return [bracketed[1]!, bracketed[2]!];
  const colon = trimmed.lastIndexOf(":");
  if (colon <= 0 || trimmed.indexOf(":") !== colon) return null;
  return [trimmed.slice(0, colon), trimmed.slice(colon + 1)];
}

const BackendPair = v.strictTuple(
  [BackendHost, Port],
  'a backend is "host:port", "[::1]:port" or [host, port]',
);
/** One backend in any accepted form, with a message that says what is wrong with it. */
const Backend = v.pipe(
  v.unknown(),
  v.rawTransform<unknown, Backend>(({ dataset, addIssue, NEVER }) => {
    const value = dataset.value;
    const pair = typeof value === "string" ? splitHostPort(value) : value;
    if (pair === null) {
      addIssue({ message: `"${value}" is not host:port (an IPv6 address as [::1]:port)` });
      return NEVER;
    }
    const result = v.safeParse(BackendPair, pair);
    if (!result.success) {
      addIssue({ message: result.issues[0].message });
      return NEVER;
    }
    return result.output;
  }),
);

/** A list of backends, or one string of comma-separated `host:port` (the client's `backends=`). */
export const Backends = v.pipe(
  v.union(
    [
      v.pipe(
        v.string(),
        v.transform((text) => text.split(",").filter((part) => part.trim() !== "")),
      ),
      v.array(v.unknown()),
    ],
    "backends must be a list or a comma-separated string",
  ),
  v.array(Backend),
  v.minLength(1, "backends must name at least one backend"),
);

export const ProxyOptions = v.strictObject(
  {
    backends: Backends,
    attempts: v.optional(
      v.pipe(
        numeric("attempts must be a number"),
        v.integer("attempts must be an integer"),
        v.minValue(1, "attempts must be at least 1"),
        v.maxValue(100, "attempts must be at most 100"),
      ),
      1,
    ),
    delay: v.optional(Seconds, 1),
  },
  "proxy takes backends (required), attempts and delay",
);

/** A plain name: static types become file names, so no path can be smuggled in. */
export const StaticOptions = v.strictObject(
  {
    type: v.pipe(
      v.string("type must be a string"),
      v.regex(/^[A-Za-z0-9_-]{1,64}$/, "type is a plain name of letters, digits, '-' and '_'"),
    ),
  },
  "static takes type (required)",
);

export const RedirectOptions = v.strictObject(
  {
    redirect_to: v.pipe(
      v.string("redirect_to must be a string"),
      v.minLength(1, "redirect_to must not be empty"),
      v.maxLength(2048, "redirect_to is at most 2048 characters"),
      v.regex(/^[\x21-\x7e]+$/, "redirect_to must be printable ASCII without white space"),
    ),
  },
  "redirect takes redirect_to (required)",
);

export const EmptyOptions = v.strictObject(
  {
    code: v.pipe(
      numeric("code must be a number"),
      v.integer("code must be an integer"),
      v.minValue(200, "code must be an HTTP status from 200 to 599"),
      v.maxValue(599, "code must be an HTTP status from 200 to 599"),
    ),
  },
  "empty takes code (required)",
);

export const SpinOptions = v.strictObject(
  {
    timeout: v.optional(PositiveSeconds, 120),
    // Kept for compatibility: spinning requests wake on each rule change, not on a poll.
    check_interval: v.optional(PositiveSeconds, 1),
  },
  "spin takes timeout and check_interval",
);

export const NoOptions = v.strictObject({}, "this action takes no options");

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
    let host: string;
    if (name.length <= HOSTNAME_MAX && HOSTNAME_RE.test(name)) host = canonicalHostname(name);
    else {
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
