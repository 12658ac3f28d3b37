/** `proxy`: forward to one of `backends`, as the rule's policy chooses, with `attempts` and `delay`. */

import type { ConnectPlan } from "../backend/connector.ts";
import type { BackendStates } from "../backend/state.ts";
import { policyNamed } from "../balance/index.ts";
import type { Member } from "../balance/policy.ts";
import { formatAddress } from "../config/address.ts";
import type { Exchange } from "../proxy/exchange.ts";
import type { Forwarder } from "../proxy/forward.ts";
import type { Backend } from "../rules/options.ts";
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
    const members = options.backends.map((backend) => memberOf(backend, forwarder.settings.states));
    this.plan = {
      members,
      policy: policyNamed(options.policy ?? "random")(members),
      attempts: options.attempts,
      delay: options.delay,
    };
  }

  run(exchange: Exchange): void {
    this.forwarder.forward(exchange, this.plan);
  }
}

/** A stored backend as its rule's member, sharing the state of its address. */
export function memberOf(backend: Backend, states: BackendStates): Member {
  if (Array.isArray(backend)) {
    const [host, port] = backend;
    const key = formatAddress(host, port);
    return {
      address: { host, port, key },
      weight: 1,
      backup: false,
      maxConns: 0,
      state: states.get(key),
    };
  }
  const key = backend.address;
  const colon = key.lastIndexOf(":");
  const host = key.startsWith("[") ? key.slice(1, colon - 1) : key.slice(0, colon);
  return {
    address: { host, port: Number(key.slice(colon + 1)), key },
    weight: backend.weight,
    backup: backend.backup,
    maxConns: backend.max_conns,
    state: states.get(key),
  };
}
