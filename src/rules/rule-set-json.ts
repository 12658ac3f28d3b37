/**
 * A rule set straight from JSON text, with the result of
 * `parseRuleSet(JSON.parse(text))` but without an object per hostname: a
 * million hostnames on a few rules cost a key each, and each distinct rule
 * text is parsed once.
 */
import { isDelimited, scanObject, skipValue, skipWhitespace } from "../json/object-scan.ts";
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
  const builder = new RuleSetBuilder();
  const byText = new Map<string, Parsed<Rule>>();
  // Neighbours usually share a rule: a text that starts with the last one holds exactly it.
  let lastText = "";
  let last: Parsed<Rule> | undefined;
  const end = scanObject(text, at, (name, valueAt) => {
    let valueEnd: number;
    if (lastText !== "" && text.startsWith(lastText, valueAt)) valueEnd = valueAt + lastText.length;
    else {
      valueEnd = skipValue(text, valueAt);
      if (valueEnd < 0) return -1;
      const slice = text.slice(valueAt, valueEnd);
      last = byText.get(slice);
      if (last === undefined) {
        let value: unknown;
        try {
          value = JSON.parse(slice);
        } catch {
          return -1;
        }
        last = parseRule(value);
        byText.set(slice, last);
      }
      lastText = isDelimited(text, valueAt) ? slice : "";
    }
    builder.add(name, last!);
    return valueEnd;
  });
  return end < 0 ? null : { parsed: builder.result(), end };
}

/** A text that is one rule set and nothing else; null when the fast path declines it. */
export function parseWholeRuleSetJson(text: string): Parsed<RuleSet> | null {
  const found = parseRuleSetJson(text);
  return found !== null && skipWhitespace(text, found.end) === text.length ? found.parsed : null;
}
