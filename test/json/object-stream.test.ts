// The object stream may decline any text, but what it accepts must mean what JSON.parse says,
// however the text is cut into pieces.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { MAX_PENDING, ObjectStream } from "../../src/json/object-stream.ts";
import { objectOf as build } from "./object-of.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? 500);

interface Streamed {
  /** The stream took every piece and found one whole object. */
  whole: boolean;
  members: [string, string][];
}

/** Feeds `pieces` in order; the members handed over, and whether the object was whole. */
function stream(pieces: string[]): Streamed {
  const members: [string, string][] = [];
  const objects = new ObjectStream((key, value) => {
    members.push([key, value]);
    return true;
  });
  for (const piece of pieces) objects.push(piece);
  return { whole: objects.end(), members };
}

/** `text` cut at the given places (taken modulo its length). */
function cut(text: string, at: number[]): string[] {
  const places = [...new Set(at.map((place) => place % (text.length + 1)))].sort((a, b) => a - b);
  const pieces: string[] = [];
  let from = 0;
  for (const place of places) {
    pieces.push(text.slice(from, place));
    from = place;
  }
  pieces.push(text.slice(from));
  return pieces;
}

const places = fc.array(fc.nat(), { maxLength: 12 });
/** Keys the stream takes on: those written without an escape. */
const plainKey = fc.string().filter((key) => JSON.stringify(key) === `"${key}"`);
const objectText = fc
  .tuple(
    fc.dictionary(plainKey, fc.jsonValue()),
    fc.constantFrom(undefined, 0, 1, 2, "\t"),
    fc.constantFrom("", " ", "\n\t "),
  )
  .map(([object, space, around]) => around + JSON.stringify(object, null, space) + around);

describe("ObjectStream", () => {
  test("agrees with JSON.parse on objects cut anywhere", () => {
    fc.assert(
      fc.property(objectText, places, (text, at) => {
        const streamed = stream(cut(text, at));
        expect(streamed.whole).toBe(true);
        expect(build(streamed.members)).toEqual(JSON.parse(text));
      }),
      { numRuns: RUNS },
    );
  });

  test("never accepts a text JSON.parse refuses; hands over the same members however it is cut", () => {
    const mutated = fc
      .tuple(objectText, fc.array(fc.tuple(fc.nat(), fc.nat(), fc.string({ maxLength: 3 }))))
      .map(([text, edits]) => {
        for (const [at, drop, insert] of edits) {
          const i = at % (text.length + 1);
          text = text.slice(0, i) + insert + text.slice(i + (drop % 3));
        }
        return text;
      });
    fc.assert(
      fc.property(mutated, places, (text, at) => {
        const whole = stream([text]);
        const pieces = stream(cut(text, at));
        expect(pieces).toEqual(whole);
        if (!whole.whole) return;
        const built = build(whole.members);
        if (built === undefined) return;
        expect(built).toEqual(JSON.parse(text));
      }),
      { numRuns: RUNS * 4 },
    );
  });

  test("members short and long, cut by large pieces and small", () => {
    // Values up to three times the part of a piece joined to the member cut before it.
    const member = fc.tuple(plainKey, fc.nat({ max: 12_000 }), fc.constantFrom("", " ", "\n"));
    const sizes = fc.array(fc.integer({ min: 1, max: 20_000 }), { minLength: 1, maxLength: 30 });
    fc.assert(
      fc.property(fc.array(member, { maxLength: 40 }), sizes, (members, pieceSizes) => {
        const text = `{${members
          .map(([key, length, space]) => `${space}"${key}"${space}:${space}"${"v".repeat(length)}"`)
          .join(",")}}`;
        const pieces: string[] = [];
        for (let at = 0, i = 0; at < text.length; i++) {
          const size = pieceSizes[i % pieceSizes.length]!;
          pieces.push(text.slice(at, at + size));
          at += size;
        }
        const streamed = stream(pieces);
        expect(streamed.whole).toBe(true);
        expect(build(streamed.members)).toEqual(JSON.parse(text));
      }),
      { numRuns: RUNS / 5 },
    );
  });

  test("a text cut short is never whole, and hands over only members whose end arrived", () => {
    const text = '{"a":[1,{"b":"]"}],"c":"x,}","d":true,"e":12}';
    for (let length = 0; length < text.length; length++) {
      const streamed = stream([text.slice(0, length)]);
      expect(streamed.whole).toBe(false);
      const complete = streamed.members.map(([key]) => key).join("");
      expect("acde".startsWith(complete)).toBe(true);
    }
    // A number may go on in the next piece: 12 is not taken for 1.
    expect(stream(['{"e":1', "2}"]).members).toEqual([["e", "12"]]);
    expect(stream([text]).whole).toBe(true);
  });

  test.each([
    ["an array", "[1]"],
    ["nothing", ""],
    ["white space only", " \n "],
    ["an escape in a key", '{"a\\"b":1}'],
    ["a control character in a key", '{"a\tb":1}'],
    ["an unquoted key", "{a:1}"],
    ["a missing colon", '{"a" 1}'],
    ["a missing comma", '{"a":1 "b":2}'],
    ["a trailing comma", '{"a":1,}'],
    ["a missing value", '{"a":}'],
    ["no closing brace", '{"a":1'],
    ["something after the object", '{"a":1} x'],
    ["a second object", "{}{}"],
    ["garbage", "\u0000\u00ff binary"],
  ])("declines %s, in one piece or a character at a time", (_what, text) => {
    expect(stream([text]).whole).toBe(false);
    expect(stream([...text]).whole).toBe(false);
  });

  test("a value equal to the one before is handed over as that very string", () => {
    const values: string[] = [];
    const objects = new ObjectStream((_key, value) => {
      values.push(value);
      return true;
    });
    objects.push('{"a":["x",{"y":1}],"b":["x",{"y":1}],');
    objects.push('"c":["x",{"y":1}],"d":["x",{"y":12}]}');
    expect(objects.end()).toBe(true);
    expect(values[1]).toBe(values[0]!);
    expect(values[2]).toBe(values[0]!);
    expect(values[3]).toBe('["x",{"y":12}]');
  });

  test("declines when the callback does, and takes no more", () => {
    const keys: string[] = [];
    const objects = new ObjectStream((key) => {
      keys.push(key);
      return key !== "b";
    });
    expect(objects.push('{"a":1,"b":2,')).toBe(false);
    expect(objects.push('"c":3}')).toBe(false);
    expect(objects.declined).toBe(true);
    expect(objects.end()).toBe(false);
    expect(keys).toEqual(["a", "b"]);
  });

  test("a member longer than MAX_PENDING is declined rather than scanned again and again", () => {
    const objects = new ObjectStream(() => true);
    // What waits is the member from its key on: `"b":"` and the x's.
    expect(objects.push(`{"a":1,"b":"${"x".repeat(MAX_PENDING / 2)}`)).toBe(true);
    expect(objects.push("x".repeat(MAX_PENDING / 2 - 5))).toBe(true);
    expect(objects.push("x")).toBe(false);
    expect(objects.declined).toBe(true);
  });
});
