/** Turns a stored rule into the action the data plane runs. */

import type { ForwardSettings } from "../proxy/forward.ts";
import type { Rule } from "../rules/schema.ts";
import type { PageStore } from "../static/pages.ts";
import type { StatsBook } from "../stats/host-stats.ts";
import type { Action } from "./action.ts";
import { EmptyAction } from "./empty.ts";
import { ProxyAction } from "./proxy.ts";
import { RedirectAction } from "./redirect.ts";
import { SpinAction, type SpinRoom } from "./spin.ts";
import { StaticAction } from "./static.ts";

export interface ActionContext {
  readonly pages: PageStore;
  readonly stats: StatsBook;
  readonly forward: ForwardSettings;
  /** Set once the router exists; spin needs the router and the router needs the table. */
  spin: SpinRoom | null;
}

export function compileRule(context: ActionContext, key: string, rule: Rule): Action {
  const stats = context.stats.of(key);
  switch (rule.action) {
    case "proxy":
      return new ProxyAction(rule.options, context.forward, stats);
    case "static":
      // Setting a rule re-reads its page, so an edited file is picked up by setting it again.
      context.pages.forget(rule.options.type);
      return new StaticAction(context.pages.get(rule.options.type), rule.options.type, stats);
    case "redirect":
      return new RedirectAction(rule.options.redirect_to, stats);
    case "empty":
      return new EmptyAction(rule.options.code, stats);
    case "spin":
      return new SpinAction(context.spin!, rule.options.timeout, stats);
    case "unknown":
      return new StaticAction(context.pages.builtin("unknown"), "unknown", stats);
    case "no_hosts":
      return new StaticAction(context.pages.builtin("no-hosts"), "no-hosts", stats);
  }
}
