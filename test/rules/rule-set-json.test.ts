// The fast path for rule sets as JSON text must mean what JSON.parse + parseRuleSet mean.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  parseRuleSetJson,
  parseWholeRuleSetJson,
  RuleSetStream,
} from "../../src/rules/rule-set-json.ts";
import {
  canonicalHostname,
  type Parsed,
  parseRuleSet,
  type RuleSet,
  toTriples,
} from "../../src/rules/schema.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? 500);

/** Comparable form: rules as sorted triples, or the problems, sorted too. */
function view(parsed: Parsed<RuleSet>): unknown {
  if (!parsed.ok) return { problems: parsed.problems.map((p) => JSON.stringify(p)).sort() };
  return Object.entries(toTriples(parsed.value)).sort(([a], [b]) => (a < b ? -1 : 1));
}

function slow(text: string): unknown {
  return view(parseRuleSet(JSON.parse(text)));
}

const TRIPLES: unknown[] = [
  ["proxy", { backends: ["127.0.0.1:9000"] }, false],
  ["proxy", { backends: [["::1", 8000]], attempts: "2" }, true],
  ["redirect", { redirect_to: 'https://x.test/]}",' }, false],
  ["static", { type: "test" }, true],
  ["empty", { code: 204 }, false],
  ["spin", {}, true],
  ["empty", { code: 99 }, false], // invalid: not a status
  ["nope", {}, false], // invalid action
  "not a triple",
  42,
  null,
];

// Letters first: integer-like keys are ordered apart by JSON.parse, and canonical
// names that collide would then be taken in another order.
const name = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9-]{0,8}(\.[a-z][a-z0-9]{0,5}){0,3}$/),
  fc.constantFrom("Upper.Case.Test", "http://pre.test", "https://pre.test", "bad_name", "x..y"),
);
const ruleSet = fc.dictionary(
  name,
  fc.constantFrom(...TRIPLES).map((triple) => structuredClone(triple)),
);
const indent = fc.constantFrom(undefined, 0, 1, 2, "\t");
/** A rule set's JSON with a few characters cut and others put in: mostly not JSON any more. */
const mutated = fc
  .tuple(ruleSet, fc.array(fc.tuple(fc.nat(), fc.nat(), fc.string({ maxLength: 3 }))))
  .map(([rules, edits]) => {
    let text = JSON.stringify(rules);
    for (const [at, cut, insert] of edits) {
      const i = at % (text.length + 1);
      text = text.slice(0, i) + insert + text.slice(i + (cut % 3));
    }
    return text;
  });

describe("rule sets from JSON text", () => {
  test("agree with JSON.parse and parseRuleSet, compact or indented", () => {
    fc.assert(
      fc.property(ruleSet, indent, (rules, space) => {
        const text = JSON.stringify(rules, null, space);
        const fast = parseWholeRuleSetJson(text);
        expect(fast).not.toBeNull();
        expect(view(fast!)).toEqual(slow(text));
      }),
      { numRuns: RUNS },
    );
  });

  test("never accept a text JSON.parse refuses, and agree on every text they accept", () => {
    fc.assert(
      fc.property(mutated, (text) => {
        const fast = parseWholeRuleSetJson(text);
        if (fast === null) return;
        let document: unknown;
        expect(() => {
          document = JSON.parse(text);
        }).not.toThrow();
        expect(typeof document === "object" && !Array.isArray(document)).toBe(true);
        // Where two names are one host ("a.test", "A.test"), the last in the text wins; JSON.parse
        // may order them otherwise (integer-like keys first, a repeated key at its first place).
        const keys = Object.keys(document as object);
        if (new Set(keys.map(canonicalHostname)).size < keys.length) return;
        expect(view(fast)).toEqual(slow(text));
      }),
      { numRuns: RUNS * 4 },
    );
  });

  test("decline what they do not take on, so the caller parses in full", () => {
    const rule = '["empty",{"code":204},false]';
    for (const text of [
      `{"a\\u002etest":${rule}}`, // an escape in a key
      `{"a.test":${rule}} x`, // something after the object
      `{"a.test":${rule},}`, // a trailing comma
      `{"a.test" ${rule}}`, // no colon
      `{"a.test":${rule.slice(0, -1)}}`, // an unclosed value
      `{"a.test":[1,}`,
      `["a.test"]`,
      "",
      `{"a.test":tru}`,
    ]) {
      expect(parseWholeRuleSetJson(text)).toBeNull();
    }
  });

  test("a name given twice counts once, the last time, as in JSON.parse", () => {
    const valid = '["empty",{"code":204},false]';
    for (const text of [
      `{"x.test":null,"x.test":${valid}}`,
      `{"bad_name":1,"bad_name":2,"y.test":${valid}}`,
      `{"x.test":${valid},"x.test":null}`,
    ]) {
      expect(view(parseWholeRuleSetJson(text)!)).toEqual(slow(text));
    }
    expect(parseWholeRuleSetJson(`{"x.test":null,"x.test":${valid}}`)?.ok).toBe(true);
  });

  test("a value that repeats is read once, and ends where the next member starts", () => {
    const rule = '["empty",{"code":204},false]';
    const text = `{"a.test":${rule}, "b.test" :\n${rule},"c.test":["empty",{"code":205},false]}`;
    const found = parseRuleSetJson(` ${text} `, 1);
    expect(found?.end).toBe(text.length + 1);
    expect(view(found!.parsed)).toEqual(slow(text));
    // A longer value that merely starts like the last one is not taken for it.
    const longer = `{"a.test":"x","b.test":"xy"}`;
    expect(view(parseWholeRuleSetJson(longer)!)).toEqual(slow(longer));
  });
});

/** `text` cut at the given places (taken modulo its length), fed to a RuleSetStream. */
function streamed(text: string, at: number[]): Parsed<RuleSet> | null {
  const stream = new RuleSetStream();
  let from = 0;
  for (const place of [...new Set(at.map((p) => p % (text.length + 1)))].sort((a, b) => a - b)) {
    stream.push(text.slice(from, place));
    from = place;
  }
  stream.push(text.slice(from));
  return stream.end();
}

const places = fc.array(fc.nat(), { maxLength: 12 });

describe("rule sets from text in pieces", () => {
  test("agree with JSON.parse and parseRuleSet, cut anywhere", () => {
    fc.assert(
      fc.property(ruleSet, indent, places, (rules, space, at) => {
        const text = JSON.stringify(rules, null, space);
        const parsed = streamed(text, at);
        expect(parsed).not.toBeNull();
        expect(view(parsed!)).toEqual(slow(text));
      }),
      { numRuns: RUNS },
    );
  });

  test("decline what the whole-text path declines, and agree with it on the rest", () => {
    fc.assert(
      fc.property(mutated, places, (text, at) => {
        const whole = parseWholeRuleSetJson(text);
        const parsed = streamed(text, at);
        expect(parsed === null).toBe(whole === null);
        if (parsed !== null) expect(view(parsed)).toEqual(view(whole!));
      }),
      { numRuns: RUNS * 4 },
    );
  });

  test("a text cut short, or with anything after the set, is declined", () => {
    const text = JSON.stringify({ "a.test": ["empty", { code: 204 }, false] });
    for (let length = 0; length < text.length; length++) {
      expect(streamed(text.slice(0, length), [])).toBeNull();
    }
    expect(streamed(`${text} x`, [])).toBeNull();
    expect(streamed(`${text}${text}`, [])).toBeNull();
  });
});
