/** The balancing policies by the name a rule gives them. */
import type { PolicyName } from "../rules/options.ts";
import type { PolicyFactory } from "./policy.ts";
import { randomPolicy } from "./random.ts";

export type { Member, PickRequest, Policy, PolicyFactory } from "./policy.ts";

const POLICIES: Partial<Record<PolicyName, PolicyFactory>> = { random: randomPolicy };

/** The factory of a policy; rules are validated first, so an unknown name is a bug. */
export function policyNamed(name: PolicyName): PolicyFactory {
  const factory = POLICIES[name];
  if (factory === undefined) throw new Error(`no balancing policy named "${name}"`);
  return factory;
}
