/**
 * `first`: the first eligible member in the order the rule lists them, for an
 * active/standby pair or chain: the others take requests only while those
 * before them cannot (down, drained, full, or already tried for this request).
 * With the first member eligible, a pick is one call of `eligible`.
 */
import type { Member, PickRequest, Policy } from "./policy.ts";

export function firstPolicy(members: readonly Member[]): Policy {
  const count = members.length;
  return {
    name: "first",
    pick(_request: PickRequest, eligible: (index: number) => boolean): number {
      for (let index = 0; index < count; index++) if (eligible(index)) return index;
      return -1;
    },
  };
}
