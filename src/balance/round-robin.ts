/**
 * `round_robin`: smooth weighted round robin, as nginx does it. Over one cycle
 * (the sum of the weights divided by their greatest common divisor) each member
 * is chosen exactly as often as its weight says, spread out rather than in runs:
 * weights {5, 1, 1} give a a b a c a a.
 *
 * One cycle is worked out when the policy is made, so with the chosen member
 * eligible a pick is one array read. An ineligible entry is passed over, and
 * the pick goes to the next eligible entry of the cycle: a down member's turns
 * go to the members after it, and the others keep their proportions. Cycles
 * longer than `MAX_CYCLE` are not stored; they are run as nginx runs them, over
 * every member of the tier at each pick (O(n)).
 *
 * Primaries and backups keep cycles of their own, so that the backups' turns
 * cost nothing while the primaries serve: backups are tried only when no
 * primary is eligible (the caller offers one tier at a time anyway).
 */
import type { Member, PickRequest, Policy } from "./policy.ts";

/** The longest cycle stored; longer ones are computed pick by pick. */
export const MAX_CYCLE = 4096;

/** The members of one tier (primaries or backups) and where their cycle stands. */
class Tier {
  /** The members' indexes in the rule. */
  readonly indexes: Int32Array;
  /** One cycle of member indexes, or null when it would be longer than MAX_CYCLE. */
  readonly schedule: Int32Array | null;
  /** The next entry of `schedule`. */
  position = 0;
  /** Without a schedule: the smooth algorithm's weights, by position in `indexes`. */
  private readonly weights: Float64Array;
  private readonly current: Float64Array;

  constructor(members: readonly Member[], indexes: number[]) {
    this.indexes = Int32Array.from(indexes);
    this.weights = Float64Array.from(indexes, (i) => members[i]!.weight);
    this.current = new Float64Array(indexes.length);
    this.schedule = this.cycle();
  }

  private cycle(): Int32Array | null {
    const count = this.indexes.length;
    if (count === 0) return null;
    let divisor = 0;
    let total = 0;
    for (const weight of this.weights) {
      divisor = gcd(divisor, weight);
      total += weight;
    }
    const length = total / divisor;
    // Equal weights: the cycle is the list itself, however long.
    if (length === count) return Int32Array.from(this.indexes);
    if (!Number.isInteger(length) || length > MAX_CYCLE) return null;
    const reduced = this.weights.map((weight) => weight / divisor);
    const current = new Float64Array(count);
    const schedule = new Int32Array(length);
    for (let step = 0; step < length; step++) {
      let best = 0;
      for (let k = 0; k < count; k++) {
        current[k]! += reduced[k]!;
        if (current[k]! > current[best]!) best = k;
      }
      current[best]! -= length;
      schedule[step] = this.indexes[best]!;
    }
    return schedule;
  }

  pick(eligible: (index: number) => boolean): number {
    const schedule = this.schedule;
    if (schedule === null) return this.smooth(eligible);
    const length = schedule.length;
    let position = this.position;
    let index = schedule[position]!;
    if (eligible(index)) {
      this.position = position + 1 === length ? 0 : position + 1;
      return index;
    }
    // Before walking the cycle, make sure it holds an eligible member at all.
    if (!this.anyEligible(eligible)) return -1;
    for (let step = 1; step < length; step++) {
      position = position + 1 === length ? 0 : position + 1;
      index = schedule[position]!;
      if (eligible(index)) {
        this.position = position + 1 === length ? 0 : position + 1;
        return index;
      }
    }
    return -1;
  }

  private anyEligible(eligible: (index: number) => boolean): boolean {
    const indexes = this.indexes;
    for (let k = 0; k < indexes.length; k++) if (eligible(indexes[k]!)) return true;
    return false;
  }

  /** nginx's pick among the eligible members: each gains its weight, the best pays the total. */
  private smooth(eligible: (index: number) => boolean): number {
    const { indexes, weights, current } = this;
    let best = -1;
    let total = 0;
    for (let k = 0; k < indexes.length; k++) {
      if (!eligible(indexes[k]!)) continue;
      current[k]! += weights[k]!;
      total += weights[k]!;
      if (best < 0 || current[k]! > current[best]!) best = k;
    }
    if (best < 0) return -1;
    current[best]! -= total;
    return indexes[best]!;
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const rest = a % b;
    a = b;
    b = rest;
  }
  return a;
}

export function roundRobinPolicy(members: readonly Member[]): Policy {
  const primaries: number[] = [];
  const backups: number[] = [];
  members.forEach((member, index) => {
    (member.backup ? backups : primaries).push(index);
  });
  const primary = new Tier(members, primaries);
  const backup = new Tier(members, backups);
  return {
    name: "round_robin",
    pick(_request: PickRequest, eligible: (index: number) => boolean): number {
      const index = primary.pick(eligible);
      return index >= 0 ? index : backup.pick(eligible);
    },
  };
}
