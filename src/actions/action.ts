/**
 * A rule made ready to run. Rules that are equal share one (a million hosts on a
 * few backend pools hold a few actions); counters are kept per hostname by the router.
 */
import type { Exchange } from "../proxy/exchange.ts";

export interface Action {
  readonly name: string;
  run(exchange: Exchange): void;
}
