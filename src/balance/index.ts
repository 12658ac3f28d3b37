/** The balancing policies by the name a rule gives them. */
import type { PolicyName } from "../rules/options.ts";
import { firstPolicy } from "./first.ts";
import { hashPolicy } from "./hash.ts";
import { leastConnPolicy } from "./least-conn.ts";
import type { PolicyFactory } from "./policy.ts";
import { randomPolicy } from "./random.ts";
import { roundRobinPolicy } from "./round-robin.ts";

export type { Member, PickRequest, Policy, PolicyFactory } from "./policy.ts";

const POLICIES: Record<PolicyName, PolicyFactory> = {
  random: randomPolicy,
  round_robin: roundRobinPolicy,
  least_conn: leastConnPolicy,
  first: firstPolicy,
  hash: hashPolicy,
};

/** The factory of a policy; rules are validated first, so an unknown name is a bug. */
export function policyNamed(name: PolicyName): PolicyFactory {
  const factory = POLICIES[name];
  if (factory === undefined) throw new Error(`no balancing policy named "${name}"`);
  return factory;
}
