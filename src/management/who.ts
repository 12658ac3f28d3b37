/**
 * Who made a change through the API, for the server log: the client's
 * address, as Bun.serve knows it (Hono hands the server over as `c.env`).
 */
import type { Context } from "hono";
import { plainAddress } from "../proxy/client-address.ts";

interface AddressSource {
  requestIP?(request: Request): { address: string } | null;
}

/** The client's address, or "unknown" without a server (an app called directly). */
export function clientOf(c: Context): string {
  const server = c.env as AddressSource | undefined;
  const address = server?.requestIP?.(c.req.raw)?.address;
  return address === undefined ? "unknown" : plainAddress(address);
}
