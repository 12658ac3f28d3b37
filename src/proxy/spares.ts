/**
 * Parse targets and proxy state, lent to a data plane's connections while they
 * have a request under way: ten thousand idle keep-alive connections then hold
 * neither, only their sockets.
 */
import type { RequestHead } from "../http/request-head.ts";
import type { Forward } from "./forward.ts";

/** How many of each are kept for reuse; more are left to the garbage collector. */
export const SPARES = 256;

export class Spares {
  readonly heads: RequestHead[] = [];
  readonly forwards: Forward[] = [];
}
