/**
 * How a proxy rule chooses a backend for each attempt of a request. One file
 * per policy, each behind this interface (as HAProxy keeps one `lb_*.c` per
 * algorithm). A policy is made once per rule from its members; the connector
 * asks it to choose among the members it calls eligible (healthy, of the tier
 * it is trying, not tried yet for this request, not full), and the policy
 * only chooses.
 */
import type { BackendAddress } from "../backend/address.ts";
import type { BackendState } from "../backend/state.ts";

/** One backend of a rule. */
export interface Member {
  readonly address: BackendAddress;
  /** Share of requests relative to the other members (at least 1). */
  readonly weight: number;
  /** Used only while no primary member is usable. */
  readonly backup: boolean;
  /** Requests in flight at most; 0 for no limit. */
  readonly maxConns: number;
  /** Shared by every rule that names the address. */
  readonly state: BackendState;
}

/** What a policy may read of the request it chooses for. */
export interface PickRequest {
  /** The value the rule hashes on (client address, a header, a cookie); only `hash` asks. */
  hashKey(): string;
}

export interface Policy {
  readonly name: string;
  /**
   * The index of the member for the next attempt among those `eligible`
   * accepts, or -1 when it accepts none. `eligible` is cheap and may be
   * called for any index, any number of times.
   */
  pick(request: PickRequest, eligible: (index: number) => boolean): number;
}

/** Makes a rule's policy from its members, in the order the rule lists them. */
export type PolicyFactory = (members: readonly Member[]) => Policy;
