/** `random`: each eligible member as likely as its weight says. */
import { expect, test } from "bun:test";
import { randomPolicy } from "../../src/balance/random.ts";
import { fakeMembers, tally } from "./members.ts";

const PICKS = 10_000;

/** Each share of the picks within 2 points of its weight's share. */
function expectShares(counts: number[], weights: number[]): void {
  const total = weights.reduce((a, b) => a + b);
  counts.forEach((count, i) => {
    expect(Math.abs(count / PICKS - weights[i]! / total)).toBeLessThan(0.02);
  });
}

test("equal weights: each member about as often", () => {
  expectShares(tally(randomPolicy(fakeMembers([1, 1, 1, 1])), 4, PICKS), [1, 1, 1, 1]);
});

test("weights {1, 2, 3, 4}: shares of 10, 20, 30 and 40 %", () => {
  expectShares(tally(randomPolicy(fakeMembers([1, 2, 3, 4])), 4, PICKS), [1, 2, 3, 4]);
});

test("with a member ineligible, the others keep their relative weights", () => {
  const counts = tally(randomPolicy(fakeMembers([1, 2, 3, 4])), 4, PICKS, (i) => i !== 3);
  expect(counts[3]).toBe(0);
  expectShares(counts, [1, 2, 3, 0]);
});

test("large weights: shares follow them", () => {
  const weights = [1000, 500, 250, 250];
  expectShares(tally(randomPolicy(fakeMembers(weights)), 4, PICKS), weights);
});
