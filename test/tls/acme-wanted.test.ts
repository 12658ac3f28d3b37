/** Which names the rules ask ACME certificates for, as rule changes come. */
import { expect, test } from "bun:test";
import type { Change } from "../../src/rules/registry.ts";
import { parseRule, type Rule } from "../../src/rules/schema.ts";
import { WantedNames } from "../../src/tls/acme/wanted.ts";

function rule(tls: boolean): Rule {
  const parsed = parseRule(["empty", tls ? { code: 204, tls: "auto" } : { code: 204 }, false]);
  if (!parsed.ok) throw new Error("bad rule");
  return parsed.value;
}
const AUTO = rule(true);
const PLAIN = rule(false);
const set = (key: string, value: Rule): Change => ({ kind: "set", key, rule: value });
const del = (key: string): Change => ({ kind: "delete", key });

test("a name is wanted while any of its keys asks, with or without a protocol prefix", () => {
  const wanted = new WantedNames([
    ["a.test", AUTO],
    ["b.test", PLAIN],
  ]);
  expect(wanted.names()).toEqual(new Set(["a.test"]));

  expect(wanted.follow([set("https://a.test", AUTO), set("http://c.test", AUTO)])).toEqual({
    added: ["c.test"],
    removed: [],
  });
  expect(wanted.follow([del("a.test")])).toEqual({ added: [], removed: [] });
  expect(wanted.follow([set("https://a.test", PLAIN)])).toEqual({ added: [], removed: ["a.test"] });
  // Rules without tls, and deletions of keys that never asked, change nothing.
  expect(wanted.follow([set("b.test", PLAIN), del("nothing.test")])).toEqual({
    added: [],
    removed: [],
  });
  expect(wanted.names()).toEqual(new Set(["c.test"]));
});

test("a batch reports only what differs from before it", () => {
  const wanted = new WantedNames([["a.test", AUTO]]);
  expect(wanted.follow([del("a.test"), set("a.test", AUTO)])).toEqual({ added: [], removed: [] });
  expect(wanted.follow([set("b.test", AUTO), del("b.test")])).toEqual({ added: [], removed: [] });
});

test("a whole new rule set is compared with the old one", () => {
  const wanted = new WantedNames([
    ["a.test", AUTO],
    ["b.test", AUTO],
  ]);
  const rules = new Map([
    ["b.test", AUTO],
    ["c.test", AUTO],
    ["d.test", PLAIN],
  ]);
  const change = wanted.follow([{ kind: "replace", rules }]);
  expect(change).toEqual({ added: ["c.test"], removed: ["a.test"] });
  expect(wanted.names()).toEqual(new Set(["b.test", "c.test"]));
});

test("a replaced set sharing rule objects: each key of the asking rule, none of the others", () => {
  const wanted = new WantedNames(new Map([["old.test", AUTO]]));
  const rules = new Map<string, Rule>();
  for (let i = 0; i < 1000; i++) rules.set(`h${i}.test`, i % 10 === 3 ? AUTO : PLAIN);
  const change = wanted.follow([{ kind: "replace", rules }]);
  expect(change.removed).toEqual(["old.test"]);
  expect(change.added).toHaveLength(100);
  expect(wanted.names()).toEqual(new Set([...rules].filter(([, r]) => r === AUTO).map(([k]) => k)));
});

test("a replaced set where no rule asks leaves no name, then set and delete follow it", () => {
  const wanted = new WantedNames([["a.test", AUTO]]);
  const rules = new Map<string, Rule>([
    ["a.test", PLAIN],
    ["b.test", PLAIN],
  ]);
  expect(wanted.follow([{ kind: "replace", rules }])).toEqual({ added: [], removed: ["a.test"] });
  expect(wanted.names()).toEqual(new Set());
  expect(wanted.follow([set("b.test", AUTO)])).toEqual({ added: ["b.test"], removed: [] });
  expect(wanted.follow([del("b.test")])).toEqual({ added: [], removed: ["b.test"] });
  expect(wanted.names()).toEqual(new Set());
});
