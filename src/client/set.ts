/** `set <host> <action> <true|false> [key=value ...]`: one rule, checked here before it is sent. */
import { rest } from "../command-line.ts";
import { summarise } from "../management/summary.ts";
import { ACTION_NAMES, parseRule, type RuleTriple, toTriple } from "../rules/schema.ts";
import { defineClientCommand, hostArg, hostPath } from "./context.ts";
import { Failure, UsageError } from "./errors.ts";
import { describeAction } from "./format.ts";

/** The options each action takes, for the help of `client` and `set`. */
const ACTIONS = [
  [
    "proxy",
    "backends=HOST:PORT,... [attempts=N] [delay=SECONDS] [ca=FILE] [verify=false]\n" +
      "            (IPv6 as [::1]:PORT; https://HOST:PORT is reached over TLS, its certificate\n" +
      "            checked against the system's CAs, the PEM file ca, or not at all: verify=false)",
  ],
  ["static", "type=NAME"],
  ["redirect", "redirect_to=URL"],
  ["empty", "code=STATUS"],
  ["spin", "[timeout=SECONDS]"],
  ["unknown", ""],
  ["no_hosts", ""],
];

export const ACTIONS_HELP = [
  "ACTIONS and their options (for set)",
  "",
  ...ACTIONS.map(([action, options]) => `  ${action!.padEnd(10)}${options}`.trimEnd()),
  "",
  "Any action also takes",
  "  redirect_https=true  requests over plain http are sent to https:// first",
  "  tls=auto             a certificate for the host from ACME, served on bind_tls",
].join("\n");

/** The rule the arguments describe, normalised by the schema. Throws on any mistake. */
export function ruleFromArgs(action: string, subdomains: string, pairs: string[]): RuleTriple {
  const flag = subdomains.toLowerCase();
  if (flag !== "true" && flag !== "false") {
    throw new UsageError(`the subdomains flag must be true or false, not "${subdomains}"`);
  }
  const options: Record<string, string> = {};
  for (const pair of pairs) {
    // Split at the first "=" only: values such as URLs may hold more.
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`"${pair}" is not an option: write key=value`);
    options[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  if (!(ACTION_NAMES as readonly string[]).includes(action)) {
    throw new Failure(`invalid action "${action}": use one of ${ACTION_NAMES.join(", ")}`);
  }
  const parsed = parseRule([action, options, flag === "true"]);
  if (!parsed.ok) throw new Failure(summarise("rule", parsed.problems));
  return toTriple(parsed.value);
}

export const setCommand = defineClientCommand({
  description: "Add or replace a rule; true lets it match subdomains too",
  args: {
    host: { type: "positional", required: true, description: "The hostname, e.g. example.com" },
    action: {
      type: "positional",
      required: true,
      description: "What to do with its requests (see ACTIONS)",
    },
    subdomains: {
      type: "positional",
      required: true,
      valueHint: "true|false",
      description: "Whether the rule matches its subdomains too",
    },
    "key=value": rest({ type: "positional", description: "The action's options (see ACTIONS)" }),
  },
  epilogue: ACTIONS_HELP,
  async run(args, { json, call, print }) {
    const key = hostArg(args.host);
    // citty's `_` holds every positional, the three above too.
    const rule = ruleFromArgs(args.action, args.subdomains, args._.slice(3));
    await call("PUT", hostPath("hostname", key), rule);
    const what = rule[2] ? `${key} and its subdomains` : key;
    if (!json) print(`set ${what}: ${describeAction(rule)}`);
  },
});
