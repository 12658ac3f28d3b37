/** Fake members for policy tests: addresses and states without sockets. */
import { addressOf } from "../../src/backend/members.ts";
import { BackendState } from "../../src/backend/state.ts";
import type { Member, PickRequest, Policy } from "../../src/balance/policy.ts";

export interface FakeMemberOptions {
  backup?: boolean;
  /** The address's port: 8000 + index unless given (two members may share one). */
  port?: number;
}

/** One member per weight, at 10.0.0.1:8000, :8001, … in order. */
export function fakeMembers(
  weights: readonly number[],
  backups: readonly boolean[] = [],
): Member[] {
  return weights.map((weight, index) => fakeMember(weight, index, { backup: backups[index] }));
}

export function fakeMember(weight: number, index: number, options: FakeMemberOptions = {}): Member {
  const port = options.port ?? 8000 + index;
  const key = `10.0.0.1:${port}`;
  return {
    address: addressOf(["10.0.0.1", port]),
    weight,
    backup: options.backup ?? false,
    maxConns: 0,
    state: new BackendState(key),
  };
}

/** A request whose hash key can be changed between picks. */
export class KeyedRequest implements PickRequest {
  constructor(public key = "") {}
  hashKey(): string {
    return this.key;
  }
}

export const ANY: (index: number) => boolean = () => true;

/** How often each member is chosen in `picks` picks, all eligible unless said. */
export function tally(
  policy: Policy,
  count: number,
  picks: number,
  eligible: (index: number) => boolean = ANY,
  request: PickRequest = new KeyedRequest(),
): number[] {
  const counts = new Array<number>(count).fill(0);
  for (let i = 0; i < picks; i++) {
    const index = policy.pick(request, eligible);
    if (index < 0) throw new Error("no member chosen");
    counts[index]!++;
  }
  return counts;
}
