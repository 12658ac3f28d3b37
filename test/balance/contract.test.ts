/**
 * The contract every balancing policy keeps, run against each registered one:
 * it only chooses, among the members the caller calls eligible.
 */
import { describe, expect, test } from "bun:test";
import { policyNamed } from "../../src/balance/index.ts";
import type { Member } from "../../src/balance/policy.ts";
import { POLICY_NAMES } from "../../src/rules/options.ts";
import { fakeMembers, KeyedRequest } from "./members.ts";

/** A small seeded generator, so a failure can be replayed. */
function generator(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` members of weights 1 to 1000, a quarter of them backups. */
function mixedMembers(count: number, random: () => number): Member[] {
  const weights = Array.from({ length: count }, () => 1 + Math.floor(random() * 1000));
  const backups = Array.from({ length: count }, () => random() < 0.25);
  return fakeMembers(weights, backups);
}

const SHAPES: [string, (random: () => number) => Member[]][] = [
  ["1 member", () => fakeMembers([1])],
  ["3 equal members", () => fakeMembers([1, 1, 1])],
  [
    "5 weighted members with backups",
    () => fakeMembers([5, 1, 1, 2, 3], [false, false, false, true, true]),
  ],
  ["64 members of weight 1", () => fakeMembers(new Array(64).fill(1))],
  ["64 members of weight 1000", () => fakeMembers(new Array(64).fill(1000))],
  ["64 members of weights up to 1000", (random) => mixedMembers(64, random)],
];

describe.each([...POLICY_NAMES])("%s", (name) => {
  const make = policyNamed(name);

  test("is named as the rule names it", () => {
    expect(make(fakeMembers([1])).name).toBe(name);
  });

  describe.each(SHAPES)("with %s", (_shape, shape) => {
    test("chooses only an eligible member, and -1 exactly when none is, as eligibility changes", () => {
      const random = generator(7);
      const members = shape(random);
      const count = members.length;
      const policy = make(members);
      const request = new KeyedRequest();
      for (let pick = 0; pick < 3000; pick++) {
        // Each call its own eligibility: all, none, one, or a random share.
        const mode = pick % 4;
        const one = Math.floor(random() * count);
        const share = random();
        const accepted = members.map((_, i) =>
          mode === 0 ? true : mode === 1 ? false : mode === 2 ? i === one : random() < share,
        );
        request.key = `key-${Math.floor(random() * 1e6)}`;
        const asked: number[] = [];
        const index = policy.pick(request, (i) => {
          asked.push(i);
          return accepted[i]!;
        });
        for (const i of asked) expect(Number.isInteger(i) && i >= 0 && i < count).toBe(true);
        if (accepted.includes(true)) {
          expect(index).toBeGreaterThanOrEqual(0);
          expect(accepted[index!]).toBe(true);
        } else expect(index).toBe(-1);
      }
    });

    test("with one eligible member, chooses it", () => {
      const members = shape(generator(11));
      const policy = make(members);
      const request = new KeyedRequest("a key");
      for (let only = 0; only < members.length; only++) {
        for (let again = 0; again < 3; again++) {
          expect(policy.pick(request, (i) => i === only)).toBe(only);
        }
      }
    });

    test("every member can be chosen: retries reach each member once, then -1", () => {
      const random = generator(13);
      const members = shape(random);
      const policy = make(members);
      const request = new KeyedRequest();
      for (let round = 0; round < 20; round++) {
        request.key = `client-${round}`;
        const tried = new Set<number>();
        for (let attempt = 0; attempt < members.length; attempt++) {
          const index = policy.pick(request, (i) => !tried.has(i));
          expect(index).toBeGreaterThanOrEqual(0);
          expect(tried.has(index)).toBe(false);
          tried.add(index);
        }
        expect(policy.pick(request, (i) => !tried.has(i))).toBe(-1);
      }
    });

    test("one tier at a time: primaries while any is eligible, then backups", () => {
      const members = shape(generator(17));
      const policy = make(members);
      const request = new KeyedRequest("tiers");
      const primary = (i: number) => !members[i]!.backup;
      const backup = (i: number) => members[i]!.backup;
      for (let pick = 0; pick < 200; pick++) {
        request.key = `tiers-${pick}`;
        const index = policy.pick(request, primary);
        if (members.some((m) => !m.backup)) expect(members[index]!.backup).toBe(false);
        else expect(index).toBe(-1);
        const fallback = policy.pick(request, backup);
        if (members.some((m) => m.backup)) expect(members[fallback]!.backup).toBe(true);
        else expect(fallback).toBe(-1);
      }
    });
  });
});
