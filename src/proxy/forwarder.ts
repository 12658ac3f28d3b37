/** Starts forwards, and keeps finished ones for reuse so a request allocates no parser state. */
import type { ConnectPlan } from "../backend/connector.ts";
import type { Exchange } from "./exchange.ts";
import { Forward } from "./forward.ts";
import type { ForwardOwner, ForwardSettings } from "./forward-settings.ts";
import { SPARES } from "./spares.ts";

export type { ForwardSettings } from "./forward-settings.ts";

export class Forwarder implements ForwardOwner<Forward> {
  private readonly spares: Forward[] = [];

  constructor(readonly settings: ForwardSettings) {}

  forward(exchange: Exchange, plan: ConnectPlan): void {
    (this.spares.pop() ?? new Forward(this)).start(exchange, plan);
  }

  release(forward: Forward): void {
    if (this.spares.length < SPARES) this.spares.push(forward);
  }
}
