/** Hostnames: what is accepted, the stored form, and messages that say what is wrong. */
import { expect, test } from "bun:test";
import fc from "fast-check";
import * as v from "valibot";
import { Hostname, isCanonicalHostname, quickHostname } from "../../src/rules/hostname.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? 500);

const messages = (name: string) =>
  v.safeParse(Hostname, name).issues?.map((issue) => issue.message) ?? [];

test("a label of 64 characters is refused with a message about its length, alone", () => {
  const long = "a".repeat(64);
  expect(messages(`${long}.example.com`)).toEqual([
    `each label of a hostname is at most 63 characters; "${"a".repeat(20)}…" has 64`,
  ]);
  expect(messages(`http://www.${long}`)).toHaveLength(1);
});

test("63 characters is fine, in the schema and on the quick path", () => {
  const name = `${"b".repeat(63)}.example.com`;
  expect(messages(name)).toEqual([]);
  expect(quickHostname(name)).toBe(name);
});

test("the quick path agrees with the schema and leaves doubtful names to it", () => {
  for (const name of [
    "Example.COM.",
    "https://a-b.c",
    "a_b.com",
    "-a.com",
    `${"c".repeat(64)}.com`,
    "",
  ]) {
    const parsed = v.safeParse(Hostname, name);
    const quick = quickHostname(name);
    if (quick !== null) expect(parsed.output as string).toBe(quick);
    else if (parsed.success) expect(quick).toBeNull();
  }
  expect(quickHostname("Example.COM.")).toBe("example.com");
  expect(quickHostname("a_b.com")).toBeNull();
});

test("other faults keep the general message", () => {
  expect(messages("a_b.com")[0]).toContain("dot-separated labels");
});

test("a name the one-pass test calls canonical is valid and its own canonical form", () => {
  const char = fc.constantFrom(..."abzAZ09-._:/");
  const name = fc.oneof(
    fc.string({ unit: char, maxLength: 24 }),
    // Labels around the 63-character limit, and names around the 261-character one.
    fc
      .array(fc.stringMatching(/^[a-z0-9-]{60,66}$/), { minLength: 1, maxLength: 5 })
      .map((labels) => labels.join(".")),
  );
  fc.assert(
    fc.property(name, (candidate) => {
      const parsed = v.safeParse(Hostname, candidate);
      if (isCanonicalHostname(candidate)) {
        expect(parsed.success).toBe(true);
        expect(parsed.output as string).toBe(candidate);
      }
      if (parsed.success) expect(quickHostname(candidate)).toBe(parsed.output as string);
    }),
    { numRuns: RUNS * 4 },
  );
});

test("the common names pass the one-pass test; anything needing a change or doubt does not", () => {
  for (const name of ["a", "h0.bench.test", "x-1.example.com", `${"b".repeat(63)}.com`]) {
    expect(isCanonicalHostname(name)).toBe(true);
  }
  for (const name of [
    "",
    "A.com",
    "a.com.",
    ".a.com",
    "a..com",
    "-a.com",
    "a-.com",
    "a_b.com",
    "http://a.com",
    `${"b".repeat(64)}.com`,
    `${"a.".repeat(131)}a`, // 263 characters
  ]) {
    expect(isCanonicalHostname(name)).toBe(false);
  }
});
