/** `hash`: consistent hashing on the request's key, over a ring of weighted points. */
import { expect, test } from "bun:test";
import { hashPolicy, MAX_POINTS } from "../../src/balance/hash.ts";
import type { Member, Policy } from "../../src/balance/policy.ts";
import { ANY, fakeMember, fakeMembers, KeyedRequest } from "./members.ts";

const KEYS = Array.from({ length: 10_000 }, (_, i) => `198.51.${i >> 8}.${i & 255}`);

/** Each key's member, by address. */
function assign(policy: Policy, members: readonly Member[], eligible = ANY): string[] {
  const request = new KeyedRequest();
  return KEYS.map((key) => {
    request.key = key;
    return members[policy.pick(request, eligible)]!.address.key;
  });
}

function shares(assigned: string[], members: readonly Member[]): number[] {
  return members.map((m) => assigned.filter((key) => key === m.address.key).length / KEYS.length);
}

test("a key keeps its member, pick after pick and policy after policy", () => {
  const members = fakeMembers([1, 1, 1, 1, 1]);
  const first = assign(hashPolicy(members), members);
  expect(assign(hashPolicy(members), members)).toEqual(first);
  const policy = hashPolicy(members);
  const request = new KeyedRequest("203.0.113.9");
  const index = policy.pick(request, ANY);
  for (let i = 0; i < 1000; i++) expect(policy.pick(request, ANY)).toBe(index);
});

test("keys spread evenly over members of equal weight", () => {
  for (const count of [2, 5, 10]) {
    const members = fakeMembers(new Array(count).fill(1));
    for (const share of shares(assign(hashPolicy(members), members), members)) {
      expect(share).toBeGreaterThan(0.7 / count);
      expect(share).toBeLessThan(1.3 / count);
    }
  }
});

test("weights scale a member's share of the ring", () => {
  const weights = [1, 2, 3, 4];
  const members = fakeMembers(weights);
  shares(assign(hashPolicy(members), members), members).forEach((share, i) => {
    expect(Math.abs(share - weights[i]! / 10)).toBeLessThan(0.03);
  });
});

for (let count = 5; count <= 10; count++) {
  test(`removing one of ${count} members moves only about 1/${count} of the keys`, () => {
    const members = fakeMembers(new Array(count).fill(1));
    const before = assign(hashPolicy(members), members);
    for (const removed of [0, Math.floor(count / 2), count - 1]) {
      const rest = members.filter((_, i) => i !== removed);
      const after = assign(hashPolicy(rest), rest);
      const gone = members[removed]!.address.key;
      let moved = 0;
      let stayed = 0;
      let kept = 0;
      for (let k = 0; k < KEYS.length; k++) {
        if (before[k] !== after[k]) moved++;
        if (before[k] !== gone) {
          kept++;
          if (before[k] === after[k]) stayed++;
        }
      }
      expect(moved).toBeLessThan((1.5 / count) * KEYS.length);
      expect(moved).toBeGreaterThan((0.5 / count) * KEYS.length);
      // The keys of the members that remain stay where they were.
      expect(stayed / kept).toBeGreaterThan(0.99);
    }
  });
}

test("adding a member takes about 1/N of the keys, from every other member", () => {
  const members = fakeMembers(new Array(8).fill(1));
  const added = members[7]!.address.key;
  const before = assign(hashPolicy(members.slice(0, 7)), members);
  const after = assign(hashPolicy(members), members);
  const losers: string[] = [];
  for (let k = 0; k < KEYS.length; k++) {
    if (before[k] === after[k]) continue;
    expect(after[k]).toBe(added);
    losers.push(before[k]!);
  }
  expect(losers.length).toBeLessThan((1.5 / 8) * KEYS.length);
  expect(losers.length).toBeGreaterThan((0.5 / 8) * KEYS.length);
  expect(new Set(losers).size).toBe(7);
});

test("a member that is not eligible has its keys spread over the others, and gets them back", () => {
  const members = fakeMembers(new Array(6).fill(1));
  const policy = hashPolicy(members);
  const before = assign(policy, members);
  const down = members[2]!.address.key;
  const during = assign(policy, members, (i) => i !== 2);
  const heirs = new Set<string>();
  for (let k = 0; k < KEYS.length; k++) {
    if (before[k] === down) heirs.add(during[k]!);
    else expect(during[k]).toBe(before[k]!);
  }
  expect(heirs.has(down)).toBe(false);
  expect(heirs.size).toBeGreaterThanOrEqual(3);
  expect(assign(policy, members)).toEqual(before);
});

test("large weights stay consistent on a ring of bounded size", () => {
  const members = fakeMembers(new Array(8).fill(1000));
  const before = assign(hashPolicy(members), members);
  const rest = members.slice(1);
  const after = assign(hashPolicy(rest), rest);
  const moved = before.filter((key, k) => key !== after[k]).length;
  expect(moved).toBeLessThan((1.5 / 8) * KEYS.length);
  expect(before.filter((key, k) => key !== members[0]!.address.key && key !== after[k])).toEqual(
    [],
  );
  expect(MAX_POINTS).toBeLessThanOrEqual(1 << 20);
});

test("the same address twice in a rule: both copies get keys", () => {
  const members = [fakeMember(1, 0, { port: 9000 }), fakeMember(1, 1, { port: 9000 })];
  const policy = hashPolicy(members);
  const request = new KeyedRequest();
  const counts = [0, 0];
  for (const key of KEYS) {
    request.key = key;
    counts[policy.pick(request, ANY)]!++;
  }
  expect(counts[0]).toBeGreaterThan(3000);
  expect(counts[1]).toBeGreaterThan(3000);
});

test("an empty key still chooses, always the same member", () => {
  const policy = hashPolicy(fakeMembers([1, 1, 1]));
  const request = new KeyedRequest("");
  const index = policy.pick(request, ANY);
  expect(index).toBeGreaterThanOrEqual(0);
  for (let i = 0; i < 100; i++) expect(policy.pick(request, ANY)).toBe(index);
});
