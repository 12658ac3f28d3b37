// The primary's pure parts: what a change looks like on the wire, and how workers' counters add up.
import { describe, expect, test } from "bun:test";
import { parseRule, parseRuleSet, type Rule, type RuleTriple } from "../../src/rules/schema.ts";
import type { StatsRecord } from "../../src/stats/host-stats.ts";
import { addStats, toWire } from "../../src/workers/wire.ts";

function rule(triple: RuleTriple): Rule {
  const parsed = parseRule(triple);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.value;
}

const record = (
  open_requests: number,
  completed_requests: number,
  bytes_sent: number,
  bytes_received: number,
): StatsRecord => ({ open_requests, completed_requests, bytes_sent, bytes_received });

describe("toWire", () => {
  test("a set sends the rule in its stored triple form", () => {
    const empty = rule(["empty", { code: 201 }, true]);
    expect(toWire({ kind: "set", key: "a.test", rule: empty })).toEqual([
      { kind: "set", key: "a.test", rule: ["empty", { code: 201 }, true] },
    ]);
  });

  test("a delete sends the key", () => {
    expect(toWire({ kind: "delete", key: "https://a.test" })).toEqual([
      { kind: "delete", key: "https://a.test" },
    ]);
  });

  test("a whole new set sends every rule as a triple", () => {
    const parsed = parseRuleSet({
      "a.test": ["empty", { code: 201 }, false],
      "http://b.test": ["static", { type: "test" }, true],
    });
    if (!parsed.ok) throw new Error("invalid rule set");
    expect(toWire({ kind: "replace", rules: parsed.value })).toEqual([
      {
        kind: "replace",
        rules: {
          "a.test": ["empty", { code: 201 }, false],
          "http://b.test": ["static", { type: "test" }, true],
        },
      },
    ]);
  });

  test("a change that changed nothing sends nothing", () => {
    expect(toWire({ kind: "none" })).toEqual([]);
  });
});

describe("addStats", () => {
  test("adds a live worker's counters host by host, open requests included", () => {
    const total = new Map<string, StatsRecord>();
    addStats(total, { "a.test": record(1, 2, 3, 4) }, true);
    addStats(total, { "a.test": record(10, 20, 30, 40), "b.test": record(1, 1, 1, 1) }, true);
    expect(Object.fromEntries(total)).toEqual({
      "a.test": record(11, 22, 33, 44),
      "b.test": record(1, 1, 1, 1),
    });
  });

  test("a worker that is gone keeps its totals but not its open requests", () => {
    const total = new Map([["a.test", record(2, 5, 50, 500)]]);
    addStats(total, { "a.test": record(3, 1, 10, 100), "gone.test": record(7, 1, 0, 0) }, false);
    expect(Object.fromEntries(total)).toEqual({
      "a.test": record(2, 6, 60, 600),
      "gone.test": record(0, 1, 0, 0),
    });
  });

  test("never changes the records it reads, so a total can be made again from the same parts", () => {
    const fallen = new Map([["a.test", record(0, 5, 5, 5)]]);
    const live = { "a.test": record(1, 1, 1, 1) };
    const first = new Map(fallen);
    addStats(first, live, true);
    const second = new Map(fallen);
    addStats(second, live, true);
    expect(Object.fromEntries(second)).toEqual(Object.fromEntries(first));
    expect(fallen.get("a.test")).toEqual(record(0, 5, 5, 5));
    expect(live["a.test"]).toEqual(record(1, 1, 1, 1));
  });

  test("no counters add nothing", () => {
    const total = new Map([["a.test", record(1, 2, 3, 4)]]);
    addStats(total, {}, false);
    expect(Object.fromEntries(total)).toEqual({ "a.test": record(1, 2, 3, 4) });
  });
});
