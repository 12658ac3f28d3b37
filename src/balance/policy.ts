/**
 * How a proxy rule chooses a backend for each attempt of a request. One file
 * per policy, each behind this interface (as HAProxy keeps one `lb_*.c` per
 * algorithm); the connector asks, the policy only chooses.
 */
import type { BackendAddress } from "../backend/address.ts";

export interface Policy {
  readonly name: string;
  /** The backend for the next attempt among `backends` (never empty). */
  pick(backends: readonly BackendAddress[]): BackendAddress;
}
