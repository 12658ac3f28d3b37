/**
 * Picks the rule for a request, counts the request against its hostname, and
 * moves the count along when a spinning request lands on another rule.
 * Counters are looked up per request, so a rule with no traffic costs nothing.
 */
import type { Exchange } from "../proxy/exchange.ts";
import type { Entry, Protocol, RuleTable } from "../rules/table.ts";
import type { StatsBook } from "../stats/host-stats.ts";
import type { Action } from "./action.ts";
import type { BuiltinAnswers } from "./static.ts";

export class Router {
  constructor(
    private readonly table: RuleTable<Action>,
    private readonly stats: StatsBook,
    private readonly answers: BuiltinAnswers,
  ) {}

  /** The matching rule, or null (the `unknown` page, or `no-hosts` with no rules at all). */
  resolve(host: string, protocol: Protocol): Entry<Action> | null {
    return this.table.size === 0 ? null : this.table.resolve(host, protocol);
  }

  dispatch(exchange: Exchange): void {
    this.run(this.resolve(exchange.host, exchange.protocol), exchange);
  }

  run(entry: Entry<Action> | null, exchange: Exchange): void {
    const stats = entry === null ? null : this.stats.of(entry.key);
    if (exchange.stats !== stats) {
      if (exchange.stats) exchange.stats.open_requests--;
      if (stats) stats.open_requests++;
      exchange.stats = stats;
    }
    exchange.ruleKey = entry === null ? null : entry.key;
    const action =
      entry?.action ?? (this.table.size === 0 ? this.answers.noHosts : this.answers.unknown);
    action.run(exchange);
  }
}
