/** Turns a stored rule into the action the data plane runs. */
import { caProblem } from "../backend/tls.ts";
import type { Forwarder } from "../proxy/forwarder.ts";
import type { RuleCheck } from "../rules/registry.ts";
import type { Rule } from "../rules/schema.ts";
import { type PageStore, pageProblem } from "../static/pages.ts";
import type { Action } from "./action.ts";
import { EmptyAction } from "./empty.ts";
import { ProxyAction } from "./proxy.ts";
import { RedirectAction } from "./redirect.ts";
import { type HttpsPort, HttpsRedirect } from "./redirect-https.ts";
import { SpinAction, type SpinRoom } from "./spin.ts";
import { type BuiltinAnswers, StaticAction } from "./static.ts";

export interface ActionContext {
  readonly pages: PageStore;
  /** The `unknown` and `no-hosts` answers, shared with the router. */
  readonly answers: BuiltinAnswers;
  readonly forward: Forwarder;
  /** Set once the router exists; spin needs the router and the router needs the table. */
  spin: SpinRoom | null;
  /** The port `redirect_https` sends clients to: the first `bind_tls` listener's, else 443. */
  readonly https: HttpsPort;
  /**
   * A rule set validates each distinct rule once and shares the result between
   * hostnames, so the action is built once per rule object too.
   */
  readonly built: WeakMap<Rule, Action>;
}

export function compileRule(context: ActionContext, rule: Rule): Action {
  let action = context.built.get(rule);
  if (action === undefined) {
    action = build(context, rule);
    // Only rules that ask for it pay for the protocol test.
    if (rule.options.redirect_https === true) action = new HttpsRedirect(action, context.https);
    context.built.set(rule, action);
  }
  return action;
}

/**
 * What the registry asks before it accepts a rule: a `static` rule needs a page
 * it can serve (`<static_dir>/<type>.http` that parses, or a built-in page), a
 * `proxy` rule's `ca` a PEM file of certificates that parse.
 * Needs no data plane, so a primary whose workers serve can ask it too.
 */
export function ruleCheck(staticDir: string): RuleCheck {
  return (rule) => {
    if (rule.action === "proxy" && rule.options.ca !== undefined) {
      const problem = caProblem(rule.options.ca);
      return problem === null ? null : { path: ["options", "ca"], message: `ca ${problem}` };
    }
    if (rule.action !== "static") return null;
    const problem = pageProblem(staticDir, rule.options.type);
    return problem === null ? null : { path: ["options", "type"], message: problem };
  };
}

function build(context: ActionContext, rule: Rule): Action {
  switch (rule.action) {
    case "proxy":
      return new ProxyAction(rule.options, context.forward);
    case "static":
      // Setting a rule re-reads its page, so an edited file is picked up by setting it again.
      context.pages.forget(rule.options.type);
      return new StaticAction(context.pages.get(rule.options.type), rule.options.type);
    case "redirect":
      return new RedirectAction(rule.options.redirect_to);
    case "empty":
      return new EmptyAction(rule.options.code);
    case "spin":
      return new SpinAction(context.spin!, rule.options.timeout);
    case "unknown":
      return context.answers.unknown;
    case "no_hosts":
      return context.answers.noHosts;
  }
}
