/**
 * Picks the action for a request and moves its `open_requests` count to the
 * rule that now holds it (a spinning request can land on another rule).
 */
import type { Protocol, RuleTable } from "../rules/table.ts";
import type { PageStore } from "../static/pages.ts";
import type { Action } from "./action.ts";
import type { Exchange } from "./exchange.ts";
import { StaticAction } from "./static.ts";

export class Router {
  private readonly unknown: Action;
  private readonly noHosts: Action;

  constructor(
    private readonly table: RuleTable<Action>,
    pages: PageStore,
  ) {
    this.unknown = new StaticAction(pages.builtin("unknown"), "unknown", null);
    this.noHosts = new StaticAction(pages.builtin("no-hosts"), "no-hosts", null);
  }

  resolve(host: string, protocol: Protocol): Action {
    if (this.table.size === 0) return this.noHosts;
    return this.table.resolve(host, protocol)?.action ?? this.unknown;
  }

  dispatch(exchange: Exchange): void {
    this.run(this.resolve(exchange.host, exchange.protocol), exchange);
  }

  run(action: Action, exchange: Exchange): void {
    const stats = action.stats;
    if (exchange.stats !== stats) {
      if (exchange.stats) exchange.stats.open_requests--;
      if (stats) stats.open_requests++;
      exchange.stats = stats;
    }
    action.run(exchange);
  }
}
