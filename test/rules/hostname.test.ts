/** Hostnames: what is accepted, the stored form, and messages that say what is wrong. */
import { expect, test } from "bun:test";
import * as v from "valibot";
import { Hostname, quickHostname } from "../../src/rules/hostname.ts";

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
