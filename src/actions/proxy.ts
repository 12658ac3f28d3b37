/** `proxy`: forward to one of `backends`, as the rule's policy chooses, with `attempts` and `delay`. */
import type { ConnectPlan } from "../backend/connector.ts";
import { memberOf } from "../backend/members.ts";
import { verificationOf } from "../backend/tls.ts";
import { hashKeyReader } from "../balance/hash-key.ts";
import { policyNamed } from "../balance/index.ts";
import type { Exchange } from "../proxy/exchange.ts";
import type { Forwarder } from "../proxy/forwarder.ts";
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
    // https:// backends are reached over TLS, checked as the rule's `ca` and `verify` say.
    const verification = verificationOf(options);
    const { states } = forwarder.settings;
    const members = options.backends.map((backend) => memberOf(backend, states, verification));
    const health = options.health;
    this.plan = {
      members,
      policy: policyNamed(options.policy ?? "random")(members),
      attempts: options.attempts,
      delay: options.delay,
      queueTimeout: options.queue_timeout ?? 10,
      // A rule that watches its backends' health holds requests while all are down.
      whenAllDown: options.when_all_down ?? (health !== undefined ? "spin" : "fail"),
      spinTimeout: options.spin_timeout ?? 120,
      hashKey: hashKeyReader(options.hash_key ?? "client_ip"),
      passive: health?.passive ?? null,
      hasBackups: members.some((member) => member.backup),
    };
  }

  run(exchange: Exchange): void {
    this.forwarder.forward(exchange, this.plan);
  }
}
