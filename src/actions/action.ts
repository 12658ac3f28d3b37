/** A rule made ready to run: the table holds one per rule, built when the rule is set. */
import type { HostStats } from "../stats/host-stats.ts";
import type { Exchange } from "./exchange.ts";

export interface Action {
  readonly name: string;
  /** The counters of the rule's hostname; null for the built-in answers. */
  readonly stats: HostStats | null;
  run(exchange: Exchange): void;
}
