/** `proxy`: forward to one of `backends`, chosen at random, with `attempts` and `delay`. */
import { formatAddress } from "../config/address.ts";
import { Forward, type ForwardPlan, type ForwardSettings } from "../proxy/forward.ts";
import type { Rule } from "../rules/schema.ts";
import type { Action } from "./action.ts";
import type { Exchange } from "./exchange.ts";

type ProxyOptions = Extract<Rule, { action: "proxy" }>["options"];

export class ProxyAction implements Action {
  readonly name = "proxy";
  private readonly plan: ForwardPlan;

  constructor(
    options: ProxyOptions,
    private readonly settings: ForwardSettings,
  ) {
    this.plan = {
      backends: options.backends.map(([host, port]) => ({
        host,
        port,
        key: formatAddress(host, port),
      })),
      attempts: options.attempts,
      delay: options.delay,
    };
  }

  run(exchange: Exchange): void {
    const forward = exchange.takeForward() ?? new Forward(this.settings);
    exchange.forward = forward;
    forward.start(exchange, this.plan);
  }
}
