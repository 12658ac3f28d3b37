/** Binds the management API, one server per configured address. */
import http from "node:http";
import type { Hono } from "hono";
import { formatAddress } from "../config/address.ts";
import { bindRefusal } from "../system/bind-error.ts";
import { DEFAULT_BODY_LIMIT } from "./app.ts";
import { MAX_HEAD_SIZE } from "./head-limit.ts";

export interface ManagementAddress {
  host: string;
  port: number;
}

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
  /** Share each port with the next server at a takeover (its caller has checked they are free). */
  reusePort = false,
): Bun.Server<undefined>[] {
  raiseBunHeadLimit();
  const servers: Bun.Server<undefined>[] = [];
  for (const { host, port } of addresses) {
    try {
      // Bun's own cap sits just above the app's, so the app's JSON 413 is what a client sees.
      const maxRequestBodySize = bodyLimit + 1024;
      servers.push(
        Bun.serve({ hostname: host, port, fetch: app.fetch, maxRequestBodySize, reusePort }),
      );
    } catch (error) {
      for (const server of servers) server.stop(true);
      const where = formatAddress(host, port);
      throw bindRefusal(error, where, "bind_management", "--management", " for management");
    }
  }
  return servers;
}
