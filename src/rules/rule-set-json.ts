/**
 * A rule set straight from JSON text, with the result of
 * `parseRuleSet(JSON.parse(text))` but without an object per hostname: a
 * million hostnames on a few rules cost a key each, and each distinct rule
 * text is parsed once. The text may be whole (`parseRuleSetJson`) or arrive
 * in pieces (`RuleSetStream`, for a request body read as it comes).
 */
import { isDelimited, scanObject, skipValue, skipWhitespace } from "../json/object-scan.ts";
import { ObjectStream } from "../json/object-stream.ts";
import { type Parsed, parseRule, type Rule, type RuleSet, RuleSetBuilder } from "./schema.ts";

export interface RuleSetText {
  parsed: Parsed<RuleSet>;
  /** The index just past the rule set's closing `}`. */
  end: number;
}

/**
 * The rule set (a JSON object) at `at` in `text`. Null when the fast path
 * declines the text; the caller then parses it in full, which also words any
 * JSON error.
 */
export function parseRuleSetJson(text: string, at = 0): RuleSetText | null {
  const members = new Members();
  // Neighbours usually share a rule: a text that starts with the last one holds exactly it.
  let last = "";
  const end = scanObject(text, at, (name, valueAt) => {
    let value = last;
    if (last === "" || !text.startsWith(last, valueAt)) {
      const valueEnd = skipValue(text, valueAt);
      if (valueEnd < 0) return -1;
      value = text.slice(valueAt, valueEnd);
      last = isDelimited(text, valueAt) ? value : "";
    }
    return members.add(name, value) ? valueAt + value.length : -1;
  });
  return end < 0 ? null : { parsed: members.result(), end };
}

/** A text that is one rule set and nothing else; null when the fast path declines it. */
export function parseWholeRuleSetJson(text: string): Parsed<RuleSet> | null {
  const found = parseRuleSetJson(text);
  return found !== null && skipWhitespace(text, found.end) === text.length ? found.parsed : null;
}

/** A rule set whose text arrives in pieces: each member is read as soon as it is whole. */
export class RuleSetStream {
  private readonly members = new Members();
  private readonly stream = new ObjectStream((name, value) => this.members.add(name, value));

  push(piece: string): void {
    this.stream.push(piece);
  }

  /** Once the text is whole: the set, or null when declined (the caller parses the text in full). */
  end(): Parsed<RuleSet> | null {
    return this.stream.end() ? this.members.result() : null;
  }
}

/** Members into a rule set, each distinct value text parsed and validated once. */
class Members {
  private readonly builder = new RuleSetBuilder();
  private readonly byText = new Map<string, Parsed<Rule>>();
  /** The last value text and its rule: a repeat is usually the very same string. */
  private lastText = "";
  private last: Parsed<Rule> | undefined;

  /** False when `text` is not JSON: the caller declines. */
  add(name: string, text: string): boolean {
    let rule = this.last;
    if (text !== this.lastText || rule === undefined) {
      rule = this.byText.get(text) ?? this.read(text);
      if (rule === undefined) return false;
      this.lastText = text;
      this.last = rule;
    }
    this.builder.add(name, rule);
    return true;
  }

  result(): Parsed<RuleSet> {
    return this.builder.result();
  }

  private read(text: string): Parsed<Rule> | undefined {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return undefined;
    }
    const rule = parseRule(value);
    this.byText.set(text, rule);
    return rule;
  }
}
