/**
 * Timeouts that Bun's socket timer cannot give (it fires on a coarse grid): one
 * periodic pass over the open client connections and the idle backend pool. A
 * deadline is a number on the connection, so a request arms no timer of its own.
 */
import { simpleResponse } from "../http/response-writer.ts";
import type { BackendPool } from "./backend-pool.ts";
import type { ClientConnection } from "./client-connection.ts";
import { clock } from "./clock.ts";

export interface SweepSettings {
  /** Seconds a client may take to send a whole request head. */
  headTimeout: number;
  /** Seconds a keep-alive client connection may wait between requests. */
  idleTimeout: number;
  /** Seconds to open a backend connection. */
  connectTimeout: number;
  /** Seconds to wait for a backend's response head. */
  backendTimeout: number;
}

const REQUEST_TIMEOUT = simpleResponse(
  408,
  [["Content-Type", "text/plain; charset=utf-8"]],
  "request head not received in time\n",
  false,
  false,
);

export function startSweep(
  connections: Set<ClientConnection>,
  pool: BackendPool,
  settings: SweepSettings,
): () => void {
  // Fine enough for the shortest timeout, never busier than 20 passes a second.
  const every = Math.min(
    1000,
    Math.max(50, (Math.min(settings.headTimeout, settings.idleTimeout) * 1000) / 4),
  );
  const timer = setInterval(() => {
    const now = performance.now();
    clock.now = now;
    const headLimit = settings.headTimeout * 1000;
    const idleLimit = settings.idleTimeout * 1000;
    for (const connection of connections) {
      if (connection.deadlineAt !== 0 && now >= connection.deadlineAt) connection.fireDeadline();
      if (connection.headStartedAt !== 0 && now - connection.headStartedAt > headLimit) {
        connection.timeOut(REQUEST_TIMEOUT);
      } else if (connection.idle && now - connection.lastActiveAt > idleLimit) {
        connection.close();
      }
    }
    pool.sweep(now);
  }, every);
  timer.unref();
  return () => clearInterval(timer);
}
