/** `load [file|-]`: replaces the whole rule set, checked here before it is sent. */
import { summarise } from "../management/summary.ts";
import { parseRuleSet } from "../rules/schema.ts";
import { defineClientCommand } from "./context.ts";
import { Failure } from "./errors.ts";

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A rule set, or a state file (`{"hosts": {...}, "stats": {...}}`) whose rules are taken. */
export function ruleSetFromText(text: string, source: string): Record<string, unknown> {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new Failure(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  // In a rule set "hosts" could only be a hostname, whose value is an array.
  const rules = isObject(document) && isObject(document.hosts) ? document.hosts : document;
  if (!isObject(rules)) {
    throw new Failure(
      `${source} must hold a JSON object of hostname to [action, options, subdomains]`,
    );
  }
  const parsed = parseRuleSet(rules);
  if (!parsed.ok) throw new Failure(`${source}: ${summarise("rule set", parsed.problems)}`);
  return rules;
}

export const loadCommand = defineClientCommand({
  description: "Replace every rule with a JSON rule set from a file or stdin",
  args: {
    file: {
      type: "positional",
      required: false,
      valueHint: "file|-",
      description: "A rule set or a state file; stdin when - or none",
    },
  },
  async run(args, { json, call, print, readInput }) {
    const name = args.file;
    const source = name === undefined || name === "-" ? "stdin" : name;
    const rules = ruleSetFromText(await readInput(name), source);
    await call("PUT", "/hostname/", rules);
    const count = Object.keys(rules).length;
    if (!json) print(`loaded ${count} ${count === 1 ? "rule" : "rules"}`);
  },
});
