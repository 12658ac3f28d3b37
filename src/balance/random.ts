/**
 * `random`: each eligible member, as likely as its weight says (the original
 * Mantrid's choice, where every weight is 1). With all members eligible, as
 * almost always, one random draw and one array read decide.
 */
import type { Member, PickRequest, Policy } from "./policy.ts";

export function randomPolicy(members: readonly Member[]): Policy {
  const count = members.length;
  const evenly = members.every((member) => member.weight === members[0]!.weight);
  // Cumulative weights, for a weighted draw.
  const upTo: number[] = [];
  let total = 0;
  for (const member of members) {
    total += member.weight;
    upTo.push(total);
  }
  return {
    name: "random",
    pick(_request: PickRequest, eligible: (index: number) => boolean): number {
      const first = evenly
        ? count === 1
          ? 0
          : Math.floor(Math.random() * count)
        : drawWeighted(upTo, Math.random() * total);
      if (eligible(first)) return first;
      // The draw met an ineligible member: draw again among the eligible ones only.
      let sum = 0;
      for (let i = 0; i < count; i++) if (eligible(i)) sum += members[i]!.weight;
      if (sum === 0) return -1;
      let point = Math.random() * sum;
      for (let i = 0; i < count; i++) {
        if (!eligible(i)) continue;
        point -= members[i]!.weight;
        if (point < 0) return i;
      }
      for (let i = count - 1; i >= 0; i--) if (eligible(i)) return i;
      return -1;
    },
  };
}

/** The index whose cumulative weight first exceeds `point` (binary search). */
function drawWeighted(upTo: readonly number[], point: number): number {
  let low = 0;
  let high = upTo.length - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (upTo[middle]! > point) high = middle;
    else low = middle + 1;
  }
  return low;
}
