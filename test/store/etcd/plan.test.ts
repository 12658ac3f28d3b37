/** Batches of changes as etcd transactions: within etcd's limits, and only what differs. */
import { describe, expect, test } from "bun:test";
import type { IRequestOp } from "etcd3";
import type { Change } from "../../../src/rules/registry.ts";
import { parseRule, type Rule } from "../../../src/rules/schema.ts";
import { StoreKeys } from "../../../src/store/etcd/keys.ts";
import { planWrites } from "../../../src/store/etcd/plan.ts";

const keys = new StoreKeys("/m/");

function rule(code: number): Rule {
  const parsed = parseRule(["empty", { code }, false]);
  if (!parsed.ok) throw new Error("bad rule");
  return parsed.value;
}

/** Each op as `put <key> <value>` or `del <key>`, in order. */
function ops(chunks: IRequestOp[][]): string[] {
  return chunks.flat().map((op) => {
    if (op.request_put) return `put ${op.request_put.key} ${op.request_put.value}`;
    const range = op.request_delete_range!;
    return range.range_end ? `del ${range.key}..${range.range_end}` : `del ${range.key}`;
  });
}

const none = () => [];

describe("planWrites", () => {
  test("sets, deletes and backend states are written as they are, the last one per key", () => {
    const changes: Change[] = [
      { kind: "set", key: "a.test", rule: rule(201) },
      { kind: "set", key: "a.test", rule: rule(202) },
      { kind: "delete", key: "b.test" },
      { kind: "backend", key: "10.0.0.1:80", admin: "draining" },
      { kind: "backend", key: "10.0.0.2:80", admin: "enabled" },
      { kind: "none" },
    ];
    const plan = planWrites(changes, keys, none);
    expect(plan.fromTable).toBe(false);
    expect(ops(plan.chunks)).toEqual([
      'put /m/hostname/a.test ["empty",{"code":202},false]',
      "del /m/hostname/b.test",
      'put /m/backend/10.0.0.1:80 "draining"',
      "del /m/backend/10.0.0.2:80",
    ]);
  });

  test("a replaced set is the difference from the table", () => {
    const same = rule(200);
    const table: [string, Rule][] = [
      ["kept.test", same],
      ["equal.test", rule(201)],
      ["changed.test", rule(202)],
      ["gone.test", rule(203)],
    ];
    const replaced = new Map<string, Rule>([
      ["kept.test", same],
      // Another object with the same rule: no write either.
      ["equal.test", rule(201)],
      ["changed.test", rule(212)],
      ["new.test", rule(204)],
    ]);
    const plan = planWrites([{ kind: "replace", rules: replaced }], keys, () => table);
    expect(plan.fromTable).toBe(true);
    expect(ops(plan.chunks).sort()).toEqual([
      "del /m/hostname/gone.test",
      'put /m/hostname/changed.test ["empty",{"code":212},false]',
      'put /m/hostname/new.test ["empty",{"code":204},false]',
    ]);
    // The same set again: nothing to write.
    const again = [...replaced];
    expect(planWrites([{ kind: "replace", rules: replaced }], keys, () => again).chunks).toEqual(
      [],
    );
  });

  test("changes after a replacement in the same batch count; those before do not", () => {
    const plan = planWrites(
      [
        { kind: "set", key: "before.test", rule: rule(201) },
        { kind: "replace", rules: new Map([["a.test", rule(202)]]) },
        { kind: "set", key: "after.test", rule: rule(203) },
        { kind: "delete", key: "a.test" },
      ],
      keys,
      () => [["a.test", rule(200)] as [string, Rule]],
    );
    expect(ops(plan.chunks).sort()).toEqual([
      "del /m/hostname/a.test",
      'put /m/hostname/after.test ["empty",{"code":203},false]',
    ]);
  });

  test("an empty set is one range delete, however many rules there were", () => {
    const table = Array.from({ length: 1000 }, (_, i) => [`h${i}.test`, rule(200)] as const);
    const plan = planWrites([{ kind: "replace", rules: new Map() }], keys, () => table);
    expect(ops(plan.chunks)).toEqual(["del /m/hostname/../m/hostname0"]);
  });

  test("chunks hold at most the operations and bytes etcd takes in one request", () => {
    const big = new Map<string, Rule>();
    for (let i = 0; i < 1000; i++) big.set(`h${i}.test`, rule(200 + (i % 100)));
    const plan = planWrites([{ kind: "replace", rules: big }], keys, none);
    expect(plan.chunks.map((chunk) => chunk.length)).toEqual([
      128, 128, 128, 128, 128, 128, 128, 104,
    ]);
    const small = planWrites([{ kind: "replace", rules: big }], keys, none, {
      ops: 128,
      bytes: 2000,
    });
    for (const chunk of small.chunks) {
      const bytes = chunk.reduce(
        (sum, op) => sum + op.request_put!.key!.length + op.request_put!.value!.length + 16,
        0,
      );
      expect(bytes).toBeLessThanOrEqual(2000);
    }
    expect(small.chunks.flat().length).toBe(1000);
  });
});
