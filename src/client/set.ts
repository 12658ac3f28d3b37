/** `set <host> <action> <true|false> [key=value ...]`: one rule, checked here before it is sent. */
import { summarise } from "../management/summary.ts";
import { ACTION_NAMES, parseRule, type RuleTriple, toTriple } from "../rules/schema.ts";
import { type Command, hostArg, hostPath } from "./context.ts";
import { Failure, UsageError } from "./errors.ts";

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

export const setCommand: Command = {
  args: "<host> <action> <true|false> [key=value ...]",
  summary: "add or replace a rule; true lets it match subdomains too",
  minArgs: 3,
  maxArgs: Number.POSITIVE_INFINITY,
  async run({ args, call }) {
    const [host, action, subdomains, ...pairs] = args as [string, string, string, ...string[]];
    const key = hostArg(host);
    const rule = ruleFromArgs(action, subdomains, pairs);
    await call("PUT", hostPath("hostname", key), rule);
  },
};
