/** Binds the management API, one server per configured address. */
import type { Hono } from "hono";
import { formatAddress } from "../config/address.ts";
import { ConfigError } from "../config/config.ts";
import { DEFAULT_BODY_LIMIT } from "./app.ts";

export interface ManagementAddress {
  host: string;
  port: number;
}

const REASONS: Record<string, string> = {
  EADDRINUSE: "address in use",
  EACCES: "permission denied",
  EADDRNOTAVAIL: "no such address on this machine",
};

/** Starts every listener or none: on a failure those already started are stopped. */
export function startManagement(
  app: Hono,
  addresses: ManagementAddress[],
  bodyLimit = DEFAULT_BODY_LIMIT,
): Bun.Server<undefined>[] {
  const servers: Bun.Server<undefined>[] = [];
  for (const { host, port } of addresses) {
    try {
      // Bun's own cap sits just above the app's, so the app's JSON 413 is what a client sees.
      const maxRequestBodySize = bodyLimit + 1024;
      servers.push(Bun.serve({ hostname: host, port, fetch: app.fetch, maxRequestBodySize }));
    } catch (error) {
      for (const server of servers) server.stop(true);
      const code = (error as NodeJS.ErrnoException).code ?? "";
      const reason = REASONS[code] ?? (error instanceof Error ? error.message : String(error));
      throw new ConfigError(
        `cannot listen on ${formatAddress(host, port)} for management (${reason}): ` +
          "change bind_management or --management",
        { cause: error },
      );
    }
  }
  return servers;
}
