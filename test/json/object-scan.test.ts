// The object scanner may decline any text, but what it accepts must mean what JSON.parse says.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { isDelimited, scanObject, skipValue, skipWhitespace } from "../../src/json/object-scan.ts";
import { objectOf } from "./object-of.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? 500);

/** The members as a caller sees them: key and value text, in order; null when declined. */
function scan(text: string, at = 0): { end: number; members: [string, string][] } | null {
  const members: [string, string][] = [];
  const end = scanObject(text, at, (key, valueAt) => {
    const valueEnd = skipValue(text, valueAt);
    if (valueEnd >= 0) members.push([key, text.slice(valueAt, valueEnd)]);
    return valueEnd;
  });
  return end < 0 ? null : { end, members };
}

/**
 * The object a caller builds from an accepted scan by parsing each value, or
 * undefined where the caller would fall back: a value that does not parse, or
 * anything but white space after the object.
 */
function build(text: string): Record<string, unknown> | undefined | null {
  const scanned = scan(text);
  if (scanned === null) return null;
  if (skipWhitespace(text, scanned.end) !== text.length) return undefined;
  return objectOf(scanned.members);
}

describe("scanObject", () => {
  test("an empty object, with white space around and inside", () => {
    expect(scan("{}")).toEqual({ end: 2, members: [] });
    const spaced = " \t\r\n{ \n\t\r }  ";
    expect(scan(spaced)).toEqual({ end: spaced.indexOf("}") + 1, members: [] });
  });

  test("gives each member's key and value text in order, returning the index past the brace", () => {
    const text = '{ "a" : 1 ,"b":"x,}]" , "c":[1,{"d":"]"}] ,"e":{"f":null}, "g":true}tail';
    expect(scan(text)).toEqual({
      end: text.length - 4,
      members: [
        ["a", "1"],
        ["b", '"x,}]"'],
        ["c", '[1,{"d":"]"}]'],
        ["e", '{"f":null}'],
        ["g", "true"],
      ],
    });
  });

  test("reports a repeated key each time, leaving the choice to the caller", () => {
    expect(scan('{"k":1,"k":2}')?.members).toEqual([
      ["k", "1"],
      ["k", "2"],
    ]);
  });

  test("keys may hold any character that needs no escape", () => {
    expect(scan('{"é ü/{}[],:":0}')?.members).toEqual([["é ü/{}[],:", "0"]]);
  });

  test("starts where it is told, and stops at its own closing brace", () => {
    const text = '{"outer":{"inner":[2]},"after":3}';
    const at = text.indexOf(":") + 1;
    expect(scan(text, at)).toEqual({ end: text.indexOf("}") + 1, members: [["inner", "[2]"]] });
  });

  test("hands the value's start to the callback past white space", () => {
    const starts: number[] = [];
    scanObject('{"a":  \n 7}', 0, (_key, at) => {
      starts.push(at);
      return at + 1;
    });
    expect(starts).toEqual([9]);
  });

  test.each([
    ["an array", "[1]"],
    ["nothing", ""],
    ["white space only", "  "],
    ["an escape in a key", '{"a\\"b":1}'],
    ["an escaped letter in a key", '{"\\u0061":1}'],
    ["a control character in a key", '{"a\tb":1}'],
    ["an unquoted key", "{a:1}"],
    ["a single-quoted key", "{'a':1}"],
    ["a missing colon", '{"a" 1}'],
    ["a missing comma", '{"a":1 "b":2}'],
    ["a trailing comma", '{"a":1,}'],
    ["a leading comma", '{,"a":1}'],
    ["no closing brace", '{"a":1'],
    ["an unterminated key", '{"a'],
    ["an unterminated string value", '{"a":"x}'],
    ["an unclosed nested value", '{"a":[1,2}'],
    ["a missing value", '{"a":}'],
    ["a value cut short", '{"a":'],
  ])("declines %s", (_what, text) => {
    expect(scan(text)).toBeNull();
  });

  test("declines when the callback does, and asks no further", () => {
    const keys: string[] = [];
    const end = scanObject('{"a":1,"b":2,"c":3}', 0, (key, at) => {
      keys.push(key);
      return key === "b" ? -1 : at + 1;
    });
    expect(end).toBe(-1);
    expect(keys).toEqual(["a", "b"]);
  });

  test("reads any object JSON.stringify writes, when its keys need no escapes", () => {
    const key = fc.string({ maxLength: 8 }).filter((k) => !/["\\\u0000-\u001f]/.test(k));
    const object = fc.dictionary(key, fc.jsonValue({ maxDepth: 3 }));
    const indent = fc.constantFrom(undefined, 0, 1, 2, "\t", " \r\n");
    fc.assert(
      fc.property(object, indent, (value, space) => {
        const text = JSON.stringify(value, null, space);
        expect(build(text)).toEqual(JSON.parse(text));
      }),
      { numRuns: RUNS },
    );
  });

  test("whatever it accepts from a damaged text, JSON.parse accepts with the same meaning", () => {
    const object = fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 2 }), {
      maxKeys: 4,
    });
    const edit = fc.record({
      at: fc.nat(),
      remove: fc.nat(2),
      insert: fc.constantFrom("", "{", "}", "[", "]", '"', "\\", ":", ",", " ", "1", "e", "-", "x"),
    });
    let accepted = 0;
    fc.assert(
      fc.property(object, fc.array(edit, { minLength: 1, maxLength: 3 }), (value, edits) => {
        let text = JSON.stringify(value);
        for (const { at, remove, insert } of edits) {
          const i = at % (text.length + 1);
          text = text.slice(0, i) + insert + text.slice(i + remove);
        }
        const built = build(text);
        if (built === null || built === undefined) return;
        accepted++;
        expect(built).toEqual(JSON.parse(text));
      }),
      { numRuns: RUNS },
    );
    // The property said something: some damaged texts were still taken.
    expect(accepted).toBeGreaterThan(0);
  });
});

describe("skipValue", () => {
  test.each([
    '"plain"',
    '"a\\"b"',
    '"ends in a backslash\\\\"',
    '"}],"',
    "[1,[2,[3]]]",
    '{"a":"}","b":[{}]}',
    '["]", "[", {"{": "\\""}]',
  ])("finds the end of %p by its brackets and quotes", (value) => {
    expect(skipValue(`${value},"next"`, 0)).toBe(value.length);
    expect(JSON.parse(value)).toBeDefined();
  });

  test.each([
    ["12", "12,"],
    ["-1.5e+3", "-1.5e+3}"],
    ["true", "true]"],
    ["null", "null "],
    ["false", "false\n"],
    ["nul", "nul\t"],
  ])("a scalar %p runs to the next structural character or white space", (scalar, text) => {
    expect(skipValue(text, 0)).toBe(scalar.length);
    expect(skipValue(scalar, 0)).toBe(scalar.length);
  });

  test("starts at the given index", () => {
    expect(skipValue('xx[1,"]"]yy', 2)).toBe(9);
  });

  test.each([
    ["an empty scalar", ","],
    ["a value at the end", ""],
    ["an unterminated string", '"abc'],
    ["a string whose last quote is escaped", '"abc\\"'],
    ["an unclosed array", "[1,2"],
    ["an unclosed object", '{"a":{}'],
    ["a bracket inside an unterminated string", '["]'],
  ])("has no end for %s", (_what, text) => {
    expect(skipValue(text, 0)).toBe(-1);
  });
});

describe("isDelimited", () => {
  test("only strings, arrays and objects end by their own character", () => {
    for (const text of ['"a"', "[]", "{}"]) expect(isDelimited(text, 0)).toBe(true);
    for (const text of ["1", "-1", "true", "null", " []", ""])
      expect(isDelimited(text, 0)).toBe(false);
    expect(isDelimited(' "a"', 1)).toBe(true);
  });
});

describe("skipWhitespace", () => {
  test("skips exactly JSON's four white space characters", () => {
    expect(skipWhitespace(" \t\r\nx", 0)).toBe(4);
    expect(skipWhitespace("ab  ", 2)).toBe(4);
    expect(skipWhitespace("x", 0)).toBe(0);
    for (const other of ["\v", "\f", "\u00a0", "\u2028", "\ufeff"]) {
      expect(skipWhitespace(`${other}x`, 0)).toBe(0);
    }
  });
});
