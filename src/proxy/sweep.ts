/**
 * Timeouts that Bun's socket timer cannot give (it fires on a coarse grid): one
 * periodic pass over the open client connections and the idle backend pool. A
 * deadline is a number on the connection, so a request arms no timer of its own.
 */
import type { BackendPool } from "../backend/pool.ts";
import { clock } from "./clock.ts";
import type { ConnectionTimeouts, OpenConnection } from "./listener-context.ts";

/** The limits of a client connection's phases, from the configuration (seconds). */
export function connectionTimeouts(config: {
  headTimeout: number;
  bodyTimeout: number;
  sendTimeout: number;
  idleTimeout: number;
  lingerTimeout: number;
}): ConnectionTimeouts {
  return {
    head: config.headTimeout * 1000,
    body: config.bodyTimeout * 1000,
    send: config.sendTimeout * 1000,
    idle: config.idleTimeout * 1000,
    linger: config.lingerTimeout * 1000,
  };
}

export function startSweep(
  connections: Set<OpenConnection>,
  pool: BackendPool,
  timeouts: ConnectionTimeouts,
  /** Backend work on the same beat (passive ejections that have run out). */
  backends: () => void = () => {},
): () => void {
  // Fine enough for the shortest limit, never busier than 20 passes a second.
  const shortest = Math.min(
    timeouts.head,
    timeouts.body,
    timeouts.send,
    timeouts.idle,
    timeouts.linger,
  );
  const every = Math.min(1000, Math.max(50, shortest / 4));
  const timer = setInterval(() => {
    const now = performance.now();
    clock.now = now;
    for (const connection of connections) connection.expire(now);
    pool.sweep(now);
    backends();
  }, every);
  timer.unref();
  return () => clearInterval(timer);
}
