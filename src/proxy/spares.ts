/**
 * Transactions (each with its head parser), lent to a data plane's connections
 * while they have a request under way: ten thousand idle keep-alive
 * connections then hold none, only their sockets.
 */
import type { Transaction } from "./transaction.ts";

/** How many are kept for reuse; more are left to the garbage collector. */
export const SPARES = 256;

export class Spares {
  readonly transactions: Transaction[] = [];
}
