/** `first`: the first eligible member in list order, for active/standby. */
import { expect, test } from "bun:test";
import { firstPolicy } from "../../src/balance/first.ts";
import { fakeMembers, KeyedRequest, tally } from "./members.ts";

const request = new KeyedRequest();

test("every pick goes to the first member while it is eligible", () => {
  expect(tally(firstPolicy(fakeMembers([1, 5, 5])), 3, 10_000)).toEqual([10_000, 0, 0]);
});

test("the next in order takes over while those before it are not eligible", () => {
  const policy = firstPolicy(fakeMembers([1, 1, 1, 1]));
  expect(policy.pick(request, (i) => i !== 0)).toBe(1);
  expect(policy.pick(request, (i) => i >= 2)).toBe(2);
  expect(policy.pick(request, (i) => i === 3)).toBe(3);
  // The first is back: it takes over again.
  expect(policy.pick(request, () => true)).toBe(0);
});

test("with the primaries rejected, backups in their order", () => {
  const backups = [false, false, true, true];
  const members = fakeMembers([1, 1, 1, 1], backups);
  const policy = firstPolicy(members);
  expect(policy.pick(request, (i) => !members[i]!.backup)).toBe(0);
  const tried = new Set<number>();
  const backupNotTried = (i: number) => members[i]!.backup && !tried.has(i);
  const order: number[] = [];
  for (let index = policy.pick(request, backupNotTried); index >= 0; ) {
    order.push(index);
    tried.add(index);
    index = policy.pick(request, backupNotTried);
  }
  expect(order).toEqual([2, 3]);
});
