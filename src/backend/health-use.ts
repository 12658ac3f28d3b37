/**
 * Which backends need an active health checker: those named by a proxy rule
 * with `health.path`, for as long as some hostname has such a rule. Counts
 * hostnames per rule object (rules shared by many hostnames are one object),
 * and acquires a rule's checkers when it gains its first hostname and releases
 * them when it loses its last.
 */
import type { Rule } from "../rules/schema.ts";
import type { RuleObserver } from "../rules/table.ts";
import type { BackendAddress } from "./address.ts";
import type { HealthChecks } from "./health-checks.ts";
import { backendAddresses } from "./members.ts";
import { verificationOf } from "./tls.ts";

export class HealthUse implements RuleObserver {
  private readonly users = new Map<Rule, number>();

  constructor(private readonly checks: HealthChecks) {}

  added(rule: Rule): void {
    if (!checked(rule)) return;
    const count = this.users.get(rule) ?? 0;
    this.users.set(rule, count + 1);
    if (count === 0)
      for (const address of addressesOf(rule)) this.checks.acquire(address, rule.options.health!);
  }

  removed(rule: Rule): void {
    if (!checked(rule)) return;
    const count = this.users.get(rule) ?? 0;
    if (count <= 1) {
      this.users.delete(rule);
      if (count === 1)
        for (const address of addressesOf(rule)) this.checks.release(address, rule.options.health!);
    } else this.users.set(rule, count - 1);
  }
}

function checked(rule: Rule): rule is Extract<Rule, { action: "proxy" }> {
  return rule.action === "proxy" && rule.options.health?.path !== undefined;
}

function addressesOf(rule: Extract<Rule, { action: "proxy" }>): BackendAddress[] {
  return backendAddresses(rule.options.backends, verificationOf(rule.options));
}
