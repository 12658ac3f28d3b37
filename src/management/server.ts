/** Binds the management API, one server per configured address. */
import http from "node:http";
import type { Hono } from "hono";
import { formatAddress } from "../config/address.ts";
import { ConfigError } from "../config/config.ts";
import { DEFAULT_BODY_LIMIT } from "./app.ts";
import { MAX_HEAD_SIZE } from "./head-limit.ts";

export interface ManagementAddress {
  host: string;
  port: number;
}

const REASONS: Record<string, string> = {
  EADDRINUSE: "address in use",
  EACCES: "permission denied",
  EADDRNOTAVAIL: "no such address on this machine",
};

/**
 * Bun answers a head over node:http's `maxHeaderSize` (16 KiB unless raised) with
 * an empty 431 before any handler runs. Raised well above the app's own limits,
 * a client sees the app's JSON 414 or 431 for any head up to this size; only a
 * larger one meets Bun's. The setting is the process's, and only the management
 * API uses Bun.serve (the data plane parses its own heads).
 */
export const BUN_HEAD_LIMIT = 4 * MAX_HEAD_SIZE;

function raiseBunHeadLimit(): void {
  const settings = http as { maxHeaderSize: number };
  if (settings.maxHeaderSize < BUN_HEAD_LIMIT) settings.maxHeaderSize = BUN_HEAD_LIMIT;
}

/** Starts every listener or none: on a failure those already started are stopped. */
export function startManagement(
  app: Hono,
  addresses: ManagementAddress[],
  bodyLimit = DEFAULT_BODY_LIMIT,
): Bun.Server<undefined>[] {
  raiseBunHeadLimit();
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
