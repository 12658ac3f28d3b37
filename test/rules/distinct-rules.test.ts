/** Looking at each rule object of a set once, and at its keys only when one matches. */
import { expect, test } from "bun:test";
import { distinctRules, forEachMatching } from "../../src/rules/distinct-rules.ts";
import { parseRule, type Rule } from "../../src/rules/schema.ts";

function empty(code: number): Rule {
  const parsed = parseRule(["empty", { code }, false]);
  if (!parsed.ok) throw new Error("bad rule");
  return parsed.value;
}
const A = empty(201);
const B = empty(202);
const C = empty(203);

test("the distinct rule objects of a set, whatever their order", () => {
  const rules = new Map([
    ["1.test", A],
    ["2.test", A],
    ["3.test", B],
    ["4.test", A],
    ["5.test", C],
  ]);
  expect([...distinctRules(rules)]).toEqual([A, B, C]);
  expect(distinctRules(new Map()).size).toBe(0);
});

test("each rule object is tested once; keys are visited only for the matching ones", () => {
  const rules = new Map([
    ["1.test", A],
    ["2.test", B],
    ["3.test", A],
    ["4.test", B],
  ]);
  const tested: Rule[] = [];
  const visited: string[] = [];
  const isB = (rule: Rule) => {
    tested.push(rule);
    return rule === B;
  };
  forEachMatching(rules, isB, (key) => visited.push(key));
  expect(tested).toEqual([A, B]);
  expect(visited).toEqual(["2.test", "4.test"]);

  // Entries that are not a map are gone through one by one.
  visited.length = 0;
  forEachMatching([...rules], isB, (key) => visited.push(key));
  expect(visited).toEqual(["2.test", "4.test"]);
});
