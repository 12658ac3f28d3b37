/** `proxy`: forward to one of `backends`, as the rule's policy chooses, with `attempts` and `delay`. */

import type { ConnectPlan } from "../backend/connector.ts";
import { policyNamed } from "../balance/index.ts";
import { formatAddress } from "../config/address.ts";
import type { Exchange } from "../proxy/exchange.ts";
import type { Forwarder } from "../proxy/forward.ts";
import type { Rule } from "../rules/schema.ts";
import type { Action } from "./action.ts";

type ProxyOptions = Extract<Rule, { action: "proxy" }>["options"];

export class ProxyAction implements Action {
  readonly name = "proxy";
  private readonly plan: ConnectPlan;

  constructor(
    options: ProxyOptions,
    private readonly forwarder: Forwarder,
  ) {
    this.plan = {
      backends: options.backends.map(([host, port]) => ({
        host,
        port,
        key: formatAddress(host, port),
      })),
      policy: policyNamed("random"),
      attempts: options.attempts,
      delay: options.delay,
    };
  }

  run(exchange: Exchange): void {
    this.forwarder.forward(exchange, this.plan);
  }
}
