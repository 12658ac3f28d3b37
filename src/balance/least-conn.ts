/**
 * `least_conn`: the eligible member with the fewest requests in flight per
 * unit of weight (`state.active / weight`), so a member of weight 2 carries
 * twice the requests of a member of weight 1 before it stops being chosen.
 * Members that tie share: each scan starts just after the last member chosen.
 *
 * Cost: every pick scans all the rule's members (n reads of `active`, and a
 * call of `eligible` only for a member that would beat the best so far), with
 * no allocation. n is a rule's backend count, a handful to a few dozen, so an
 * exact scan beats keeping a tree ordered on every request's start and end.
 *
 * Idle members all tie at 0 whatever their weights, as in HAProxy: under a
 * load so light that no two requests overlap, members simply take turns.
 */
import type { Member, PickRequest, Policy } from "./policy.ts";

export function leastConnPolicy(members: readonly Member[]): Policy {
  const count = members.length;
  const states = members.map((member) => member.state);
  const weights = Float64Array.from(members, (member) => member.weight);
  /** Where the next scan starts: just after the last member chosen. */
  let start = 0;
  return {
    name: "least_conn",
    pick(_request: PickRequest, eligible: (index: number) => boolean): number {
      let best = -1;
      let bestActive = 0;
      let bestWeight = 1;
      let index = start;
      for (let step = 0; step < count; step++) {
        const active = states[index]!.active;
        const weight = weights[index]!;
        // active / weight < bestActive / bestWeight, without dividing.
        if ((best < 0 || active * bestWeight < bestActive * weight) && eligible(index)) {
          best = index;
          bestActive = active;
          bestWeight = weight;
        }
        index = index + 1 === count ? 0 : index + 1;
      }
      if (best >= 0) start = best + 1 === count ? 0 : best + 1;
      return best;
    },
  };
}
