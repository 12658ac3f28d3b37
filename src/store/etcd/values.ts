/**
 * What a key holds: a rule as the API's triple in JSON (`["proxy", {...}, false]`),
 * a backend's state as a JSON string (`"draining"`). Values are read back with
 * the API's own checks, so a value written by hand that the API would refuse
 * is skipped (and said so) rather than served.
 */
import * as v from "valibot";
import type { StoredAdmin } from "../../backend/admin.ts";
import { Hostname, quickHostname } from "../../rules/hostname.ts";
import { type Parsed, parseRule, type Rule, toTriple } from "../../rules/schema.ts";

/** Each rule's JSON, once per rule object (a large set shares a few rule objects). */
const encoded = new WeakMap<Rule, string>();

export function encodeRule(rule: Rule): string {
  let text = encoded.get(rule);
  if (text === undefined) {
    text = JSON.stringify(toTriple(rule));
    encoded.set(rule, text);
  }
  return text;
}

export function encodeAdmin(admin: StoredAdmin): string {
  return JSON.stringify(admin);
}

/**
 * Reads rule values. Equal texts give one shared rule object, so a million
 * hostnames on a few pools are parsed a few times and kept once in memory.
 */
export class RuleReader {
  private readonly seen = new Map<string, Parsed<Rule>>();

  read(value: Buffer): Parsed<Rule> {
    const text = value.toString("utf8");
    let rule = this.seen.get(text);
    if (rule === undefined) {
      rule = parseRuleText(text);
      // A set of all-different rules must not keep a second copy of each.
      if (this.seen.size < 100_000) this.seen.set(text, rule);
    }
    return rule;
  }
}

function parseRuleText(text: string): Parsed<Rule> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, problems: [{ path: [], message: "the value is not JSON" }] };
  }
  return parseRule(json);
}

export function decodeAdmin(value: Buffer): StoredAdmin | null {
  try {
    const admin = JSON.parse(value.toString("utf8")) as unknown;
    return admin === "draining" || admin === "disabled" ? admin : null;
  } catch {
    return null;
  }
}

/** The key's hostname when it is one in the form rules are stored in, else null. */
export function storedHostname(host: string): string | null {
  const quick = quickHostname(host);
  if (quick !== null) return quick === host ? host : null;
  const parsed = v.safeParse(Hostname, host);
  return parsed.success && parsed.output === host ? host : null;
}
