/** `round_robin`: smooth weighted round robin, exact over each cycle. */
import { expect, test } from "bun:test";
import { MAX_CYCLE, roundRobinPolicy } from "../../src/balance/round-robin.ts";
import { ANY, fakeMembers, KeyedRequest, tally } from "./members.ts";

const request = new KeyedRequest();

function sequence(weights: number[], picks: number, eligible = ANY, backups: boolean[] = []) {
  const policy = roundRobinPolicy(fakeMembers(weights, backups));
  return Array.from({ length: picks }, () => "abcdefgh"[policy.pick(request, eligible)]).join("");
}

test("weights {5, 1, 1} give nginx's sequence, a a b a c a a, cycle after cycle", () => {
  expect(sequence([5, 1, 1], 7 * 1000)).toBe("aabacaa".repeat(1000));
});

test("over 10,000 picks each member is chosen exactly its weight times the cycles", () => {
  // 5 + 3 + 2 = 10: 1000 cycles.
  expect(tally(roundRobinPolicy(fakeMembers([5, 3, 2])), 3, 10_000)).toEqual([5000, 3000, 2000]);
  // Weights with a common divisor cycle on the reduced weights: {2, 1, 1}, a b c a.
  const policy = roundRobinPolicy(fakeMembers([400, 200, 200]));
  expect(sequence([400, 200, 200], 8)).toBe("abca".repeat(2));
  expect(tally(policy, 3, 10_000)).toEqual([5000, 2500, 2500]);
});

test("equal weights take turns in list order", () => {
  expect(sequence([1, 1, 1, 1], 12)).toBe("abcdabcdabcd");
  expect(sequence([7, 7], 6)).toBe("ababab");
});

test("a cycle too long to store is computed pick by pick, still exact", () => {
  const weights = [1000, 999, 998, 997, 996];
  const cycle = weights.reduce((a, b) => a + b);
  expect(cycle).toBeGreaterThan(MAX_CYCLE);
  expect(tally(roundRobinPolicy(fakeMembers(weights)), 5, 2 * cycle)).toEqual(
    weights.map((w) => 2 * w),
  );
  // And spread out: no member twice in a row while the weights are this close.
  const policy = roundRobinPolicy(fakeMembers(weights));
  let last = -1;
  for (let i = 0; i < cycle; i++) {
    const index = policy.pick(request, ANY);
    expect(index).not.toBe(last);
    last = index;
  }
});

test("many members of equal weight take turns, however many", () => {
  const count = MAX_CYCLE + 100;
  const policy = roundRobinPolicy(fakeMembers(new Array(count).fill(3)));
  for (let i = 0; i < 2 * count; i++) expect(policy.pick(request, ANY)).toBe(i % count);
});

test("an ineligible member's turns go to the next eligible ones; the others keep their shares", () => {
  // a down: b and c alternate.
  expect(sequence([5, 1, 1], 8, (i) => i !== 0)).toBe("bcbcbcbc");
  // b down: a and c keep 5 to 1.
  expect(tally(roundRobinPolicy(fakeMembers([5, 1, 1])), 3, 6000, (i) => i !== 1)).toEqual([
    5000, 0, 1000,
  ]);
  // Down for a while, then back: the cycle goes on where it was.
  const policy = roundRobinPolicy(fakeMembers([1, 1, 1]));
  const picks = [0, 1, 2, 3, 4, 5].map((n) => policy.pick(request, (i) => n >= 3 || i !== 1));
  expect(picks).toEqual([0, 2, 0, 1, 2, 0]);
});

test("the smooth pick, too, passes over ineligible members", () => {
  const weights = [1000, 999, 998, 997, 996];
  const counts = tally(roundRobinPolicy(fakeMembers(weights)), 5, 10_000, (i) => i !== 2);
  expect(counts[2]).toBe(0);
  expect(counts.reduce((a, b) => a + b)).toBe(10_000);
  for (const i of [0, 1, 3, 4]) expect(Math.abs(counts[i]! - 2500)).toBeLessThan(10);
});

test("backups keep a cycle of their own, used when no primary is eligible", () => {
  const backups = [false, false, true, true];
  const policy = roundRobinPolicy(fakeMembers([1, 1, 2, 1], backups));
  const primaries = (i: number) => !backups[i];
  const onlyBackups = (i: number) => backups[i]!;
  const names = (eligible: (i: number) => boolean, n: number) =>
    Array.from({ length: n }, () => "abcd"[policy.pick(request, eligible)]).join("");
  expect(names(primaries, 6)).toBe("ababab");
  expect(names(onlyBackups, 6)).toBe("cdccdc");
  // The primaries' cycle stood still meanwhile.
  expect(names(primaries, 2)).toBe("ab");
  // A caller that offers every member gets the primaries first.
  expect(names(ANY, 4)).toBe("abab");
});
