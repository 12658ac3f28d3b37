/**
 * `hash`: consistent hashing on the request's hash key (client address, a
 * header or a cookie, as the rule's `hash_key` says), so the same key keeps
 * reaching the same member, and adding or removing one of N members moves only
 * about 1/N of the keys.
 *
 * Each member owns `POINTS_PER_WEIGHT` points of a 32-bit ring per unit of
 * weight (as ketama and nginx's `hash ... consistent` do), placed by hashing
 * its address with the point's number, so a member's points depend on nothing
 * but its address and weight. The ring is sorted once, when the policy is made;
 * a key goes to the owner of the first point at or after its own hash (binary
 * search, O(log points)), or, when that owner is not eligible, to the next
 * eligible owner clockwise: a down member's keys spread over the others and
 * come back to it when it does.
 *
 * Very large weights would make a huge ring, so points per unit of weight are
 * halved as often as needed to keep the ring under `MAX_POINTS`; halving in
 * whole steps keeps a member's point count unchanged when others come or go,
 * unless the total weight crosses a power of two at that size.
 */
import type { Member, PickRequest, Policy } from "./policy.ts";

export const POINTS_PER_WEIGHT = 160;
export const MAX_POINTS = 1 << 17;

/**
 * Ring entries are sorted as one number, (position + POSITION_OFFSET) ×
 * OWNER_SPAN + owner: 32 + 21 bits, exact in a double.
 */
const POSITION_OFFSET = 2 ** 31;
const OWNER_SPAN = 2 ** 21;

/**
 * A 32-bit hash (MurmurHash3, a fixed algorithm: every Mantrid in front of the
 * same backends maps a key alike), made signed by flipping its top bit, which
 * keeps the unsigned order: the ring then searches an Int32Array.
 */
function hash32(text: string, seed = 0): number {
  return (Bun.hash.murmur32v3(text, seed) ^ 0x80000000) | 0;
}

/** How many points a member gets per unit of weight (each gets one at least). */
function pointsPerWeight(totalWeight: number): number {
  let points = POINTS_PER_WEIGHT;
  while (totalWeight * points > MAX_POINTS && points > 2 ** -20) points /= 2;
  return points;
}

/** The ring, as parallel arrays sorted by position. */
interface Ring {
  positions: Int32Array;
  owners: Int32Array;
}

function buildRing(members: readonly Member[]): Ring {
  if (members.length > OWNER_SPAN) throw new Error("too many members for a hash ring");
  let totalWeight = 0;
  for (const member of members) totalWeight += member.weight;
  const scale = pointsPerWeight(totalWeight);
  const counts = members.map((member) => Math.max(1, Math.round(member.weight * scale)));
  const entries = new Float64Array(counts.reduce((sum, count) => sum + count, 0));
  // The same address twice in a rule: the second copy gets points of its own.
  const seen = new Map<string, number>();
  let next = 0;
  members.forEach((member, owner) => {
    const copy = seen.get(member.address.key) ?? 0;
    seen.set(member.address.key, copy + 1);
    const name = copy === 0 ? member.address.key : `${member.address.key}#${copy}`;
    // Point i of a member: its name hashed with seed i.
    for (let point = 0; point < counts[owner]!; point++) {
      entries[next++] = (hash32(name, point) + POSITION_OFFSET) * OWNER_SPAN + owner;
    }
  });
  entries.sort();
  const positions = new Int32Array(entries.length);
  const owners = new Int32Array(entries.length);
  for (let i = 0; i < entries.length; i++) {
    const owner = entries[i]! % OWNER_SPAN;
    owners[i] = owner;
    positions[i] = (entries[i]! - owner) / OWNER_SPAN - POSITION_OFFSET;
  }
  return { positions, owners };
}

/** The first entry whose position is at or after `point`, wrapping to 0. */
function firstAtOrAfter(positions: Int32Array, point: number): number {
  let low = 0;
  let high = positions.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (positions[middle]! < point) low = middle + 1;
    else high = middle;
  }
  return low === positions.length ? 0 : low;
}

export function hashPolicy(members: readonly Member[]): Policy {
  const count = members.length;
  const { positions, owners } = buildRing(members);
  const size = positions.length;
  // Members found ineligible during the current walk: marked with the walk's number.
  const rejected = new Uint32Array(count);
  let walk = 0;
  return {
    name: "hash",
    pick(request: PickRequest, eligible: (index: number) => boolean): number {
      if (size === 0) return -1;
      let entry = firstAtOrAfter(positions, hash32(request.hashKey()));
      let owner = owners[entry]!;
      if (eligible(owner)) return owner;
      // Walk clockwise, asking each member once, until one is eligible or all said no.
      if (++walk === 0x1_0000_0000) {
        rejected.fill(0);
        walk = 1;
      }
      rejected[owner] = walk;
      let refusals = 1;
      for (let step = 1; step < size && refusals < count; step++) {
        entry = entry + 1 === size ? 0 : entry + 1;
        owner = owners[entry]!;
        if (rejected[owner] === walk) continue;
        if (eligible(owner)) return owner;
        rejected[owner] = walk;
        refusals++;
      }
      return -1;
    },
  };
}
