/** The balancing policies by the name a rule gives them. */
import type { Policy } from "./policy.ts";
import { randomPolicy } from "./random.ts";

export type { Policy } from "./policy.ts";

const POLICIES: Readonly<Record<string, Policy>> = { random: randomPolicy };

/** The policy of that name; rules are validated first, so an unknown name is a bug. */
export function policyNamed(name: string): Policy {
  const policy = POLICIES[name];
  if (policy === undefined) throw new Error(`no balancing policy named "${name}"`);
  return policy;
}
