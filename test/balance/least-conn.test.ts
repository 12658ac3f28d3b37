/** `least_conn`: the eligible member with the fewest requests in flight per unit of weight. */
import { expect, test } from "bun:test";
import { leastConnPolicy } from "../../src/balance/least-conn.ts";
import type { Member } from "../../src/balance/policy.ts";
import { ANY, fakeMembers, KeyedRequest, tally } from "./members.ts";

const request = new KeyedRequest();

function withActive(members: Member[], active: number[]): Member[] {
  members.forEach((member, i) => {
    member.state.active = active[i]!;
  });
  return members;
}

test("picks the member with the fewest requests in flight", () => {
  const members = withActive(fakeMembers([1, 1, 1]), [3, 1, 2]);
  expect(tally(leastConnPolicy(members), 3, 10_000)).toEqual([0, 10_000, 0]);
});

test("counts requests in flight per unit of weight", () => {
  // 1/1 against 2/3: the heavier member, though it carries more.
  expect(leastConnPolicy(withActive(fakeMembers([1, 3]), [1, 2])).pick(request, ANY)).toBe(1);
  // 1/1 against 4/3: the lighter one.
  expect(leastConnPolicy(withActive(fakeMembers([1, 3]), [1, 4])).pick(request, ANY)).toBe(0);
});

test("members that tie take turns", () => {
  const members = withActive(fakeMembers([1, 1, 1, 2]), [1, 1, 1, 5]);
  const policy = leastConnPolicy(members);
  expect([0, 1, 2, 3, 4, 5].map(() => policy.pick(request, ANY))).toEqual([0, 1, 2, 0, 1, 2]);
  expect(tally(leastConnPolicy(fakeMembers([1, 1, 1])), 3, 9999)).toEqual([3333, 3333, 3333]);
});

test("an ineligible member is passed over, however idle", () => {
  const members = withActive(fakeMembers([1, 1, 1]), [0, 4, 2]);
  expect(leastConnPolicy(members).pick(request, (i) => i !== 0)).toBe(2);
});

test("under steady load, requests spread as the weights say", () => {
  const weights = [1, 2, 3, 4];
  const members = fakeMembers(weights);
  const policy = leastConnPolicy(members);
  // 100 requests in flight; each step one of them, at random, ends and a new one starts.
  const inFlight: number[] = [];
  const counts = [0, 0, 0, 0];
  let seed = 1;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let step = 0; step < 10_100; step++) {
    if (inFlight.length === 100) {
      const done = inFlight.splice(Math.floor(random() * inFlight.length), 1)[0]!;
      members[done]!.state.active--;
    }
    const index = policy.pick(request, ANY);
    members[index]!.state.active++;
    inFlight.push(index);
    if (step >= 100) counts[index]!++;
  }
  counts.forEach((count, i) => {
    expect(Math.abs(count / 10_000 - weights[i]! / 10)).toBeLessThan(0.03);
  });
});
