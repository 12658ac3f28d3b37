/**
 * Keep-alive connections to backends, pooled per address (and for TLS per way
 * of checking the certificate) and reused last-in first-out (the warmest
 * socket first). A backend that closes an idle connection removes it from the
 * pool through the socket's own events; the idle sweep closes those idle
 * longer than `idle_timeout`. A TLS connection is handed out once its
 * handshake is done, and is pooled and reused as a plain one is.
 */
import type { Socket } from "bun";
import { log } from "../log.ts";
import { clock } from "../proxy/clock.ts";
import type { BackendAddress } from "./address.ts";
import { BackendConnection } from "./connection.ts";
import { handshakeFailure } from "./tls.ts";

export interface PoolOptions {
  /** Seconds an idle pooled connection may wait for its next request. */
  idleTimeout: number;
  /** Idle connections kept per backend; more are closed. */
  maxIdlePerBackend: number;
}

export type ConnectResult = BackendConnection | { error: string; code: string };

export class BackendPool {
  private readonly idle = new Map<string, BackendConnection[]>();

  constructor(private readonly options: PoolOptions) {}

  /** An idle connection to the backend, or null when a new one is needed. */
  take(key: string): BackendConnection | null {
    const list = this.idle.get(key);
    while (list !== undefined && list.length > 0) {
      const connection = list.pop()!;
      if (!connection.closed) return connection;
    }
    return null;
  }

  /** Puts a connection whose last exchange ended cleanly back for reuse. */
  give(connection: BackendConnection): void {
    connection.user = null;
    if (connection.closed) return;
    let list = this.idle.get(connection.poolKey);
    if (list === undefined) {
      list = [];
      this.idle.set(connection.poolKey, list);
    }
    if (list.length >= this.options.maxIdlePerBackend) {
      connection.close();
      return;
    }
    connection.idleSince = clock.now;
    list.push(connection);
  }

  /** Drops a connection that closed while idle. */
  forget(connection: BackendConnection): void {
    const list = this.idle.get(connection.poolKey);
    if (list === undefined) return;
    const index = list.indexOf(connection);
    if (index >= 0) list.splice(index, 1);
  }

  /** A new connection; over TLS, once its handshake is done. */
  connect(address: BackendAddress): Promise<ConnectResult> {
    const { host, port, key, poolKey, tls } = address;
    if (tls?.refusal) return Promise.resolve({ error: tls.refusal, code: "" });
    const opened = Bun.connect<BackendConnection>({
      hostname: host,
      port,
      allowHalfOpen: true,
      ...(tls === null ? {} : { tls: tls.options }),
      socket: {
        open: (socket) => {
          // Bun sets TCP_NODELAY on the sockets it opens.
          socket.data = new BackendConnection(socket, key, poolKey);
          // A peer that never finishes the handshake is an idle connection: it goes after idle_timeout.
          if (tls !== null) socket.timeout(this.options.idleTimeout);
        },
        timeout: (socket) => {
          if (tls !== null && socket.data.handshake === null) socket.data.destroy();
        },
        handshake: (socket, success, error) => {
          const connection = socket.data;
          socket.timeout(0);
          // With `verify: false` a handshake succeeds whatever the certificate.
          connection.handshake = success ? "" : handshakeFailure(error);
          if (!success) connection.destroy();
          connection.onHandshake?.();
        },
        data: (socket, chunk) => {
          const connection = socket.data;
          if (connection.user) connection.user.onBackendData(chunk);
          // Bytes from an idle backend answer nothing: the connection cannot be trusted.
          else connection.destroy();
        },
        drain: (socket) => {
          const connection = socket.data;
          if (connection.out.flush()) connection.user?.onBackendWritable();
        },
        end: (socket) => {
          const connection = socket.data;
          if (connection.user) connection.user.onBackendEnd();
          else connection.close();
        },
        close: (socket) => {
          const connection = socket.data;
          if (!connection) return;
          connection.closed = true;
          if (tls !== null && connection.handshake === null) {
            connection.handshake = "closed during the TLS handshake";
            connection.onHandshake?.();
          }
          if (connection.user) connection.user.onBackendClosed();
          else this.forget(connection);
        },
        error: (_socket, error) => log.debug(`backend ${key}: ${error.message}`),
        connectError: () => {},
      },
    }).then(
      (socket) => (socket as Socket<BackendConnection>).data,
      (error: NodeJS.ErrnoException) => ({ error: error.message, code: error.code ?? "" }),
    );
    return tls === null ? opened : opened.then(afterHandshake);
  }

  /** Closes idle connections past their idle timeout; called by the sweep. */
  sweep(now: number): void {
    const limit = this.options.idleTimeout * 1000;
    for (const [key, list] of this.idle) {
      let kept = 0;
      for (const connection of list) {
        if (connection.closed) continue;
        if (now - connection.idleSince > limit) connection.close();
        else list[kept++] = connection;
      }
      list.length = kept;
      if (kept === 0) this.idle.delete(key);
    }
  }

  /** Closes the idle connections to one backend (drained or disabled); returns how many. */
  closeIdle(key: string): number {
    let closed = this.closeList(key);
    // A TLS backend's pools: one per way its certificate is checked.
    if (key.startsWith("https://")) {
      for (const poolKey of this.idle.keys()) {
        if (poolKey.startsWith(`${key} `)) closed += this.closeList(poolKey);
      }
    }
    return closed;
  }

  private closeList(poolKey: string): number {
    const list = this.idle.get(poolKey);
    if (list === undefined) return 0;
    this.idle.delete(poolKey);
    let closed = 0;
    for (const connection of list) {
      if (connection.closed) continue;
      connection.close();
      closed++;
    }
    return closed;
  }

  get idleCount(): number {
    let count = 0;
    for (const list of this.idle.values()) count += list.length;
    return count;
  }

  closeAll(): void {
    for (const list of this.idle.values()) for (const connection of list) connection.close();
    this.idle.clear();
  }
}

/** The connection once its TLS handshake ended: itself, or why it failed. */
function afterHandshake(result: ConnectResult): ConnectResult | Promise<ConnectResult> {
  if ("error" in result) return result;
  const connection = result;
  const settled = (): ConnectResult =>
    connection.handshake === "" ? connection : { error: connection.handshake!, code: "" };
  if (connection.handshake !== null) return settled();
  return new Promise((resolve) => {
    connection.onHandshake = () => {
      connection.onHandshake = null;
      resolve(settled());
    };
  });
}
