// What the primary sends must give each worker the rules the primary holds, after the trip through JSON.
import { expect, test } from "bun:test";
import { BackendStates } from "../../src/backend/state.ts";
import type { Change } from "../../src/rules/registry.ts";
import {
  parseRule,
  parseRuleSet,
  type Rule,
  type RuleTriple,
  toTriples,
} from "../../src/rules/schema.ts";
import { RuleTable } from "../../src/rules/table.ts";
import type { ToWorker } from "../../src/workers/messages.ts";
import { toWire } from "../../src/workers/wire.ts";
import { applyChange } from "../../src/workers/worker.ts";

const TRIPLES: Record<string, RuleTriple> = {
  "proxy.test": ["proxy", { backends: ["127.0.0.1:9000", "[::1]:9001"], attempts: 3 }, true],
  "https://static.test": ["static", { type: "test" }, false],
  "redirect.test": ["redirect", { redirect_to: "https://elsewhere.test/" }, false],
  "http://empty.test": ["empty", { code: 204 }, true],
  "spin.test": ["spin", { timeout: 5 }, false],
};

function rule(triple: RuleTriple): Rule {
  const parsed = parseRule(triple);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.value;
}

/** Applies changes to a primary-side table directly and to a worker-side one over the wire. */
function bothSides(changes: Change[]) {
  const primary = new RuleTable<Rule>((_key, r) => r);
  const worker = new RuleTable<Rule>((_key, r) => r);
  for (const change of changes) {
    if (change.kind === "set") primary.set(change.key, change.rule);
    else if (change.kind === "delete") primary.delete(change.key);
    else if (change.kind === "replace") primary.replaceAll(change.rules);
  }
  const message: ToWorker = { type: "changes", id: 1, changes: changes.flatMap(toWire) };
  const received = JSON.parse(JSON.stringify(message)) as ToWorker;
  if (received.type !== "changes") throw new Error("not a change message");
  for (const change of received.changes) applyChange(worker, change);
  return { primary: toTriples(primary.frozen()), worker: toTriples(worker.frozen()) };
}

test("set and delete arrive as the primary made them, defaults and prefixes included", () => {
  const changes: Change[] = Object.entries(TRIPLES).map(([key, triple]) => ({
    kind: "set",
    key,
    rule: rule(triple),
  }));
  changes.push({ kind: "delete", key: "redirect.test" }, { kind: "none" });
  const { primary, worker } = bothSides(changes);
  expect(Object.keys(worker).sort()).toEqual(
    ["proxy.test", "https://static.test", "http://empty.test", "spin.test"].sort(),
  );
  expect(worker).toEqual(primary);
});

test("a whole new set arrives whole", () => {
  const parsed = parseRuleSet(TRIPLES);
  if (!parsed.ok) throw new Error("invalid rule set");
  const { primary, worker } = bothSides([
    { kind: "set", key: "before.test", rule: rule(["empty", { code: 201 }, false]) },
    { kind: "replace", rules: parsed.value },
  ]);
  expect(Object.keys(worker).sort()).toEqual(Object.keys(TRIPLES).sort());
  expect(worker).toEqual(primary);
});

test("a drain travels to the worker's backend states", () => {
  const states = new BackendStates();
  const message: ToWorker = {
    type: "changes",
    id: 1,
    changes: toWire({ kind: "backend", key: "[::1]:9000", admin: "draining" }),
  };
  const received = JSON.parse(JSON.stringify(message)) as ToWorker;
  if (received.type !== "changes") throw new Error("not a change message");
  const table = new RuleTable<Rule>((_key, r) => r);
  for (const change of received.changes) applyChange(table, change, states);
  expect(states.get("[::1]:9000")).toMatchObject({ admin: "draining", usable: false });
  expect(table.size).toBe(0);
});
