/**
 * A `bind_tls` listener: a `node:tls` server (Bun.listen takes one certificate
 * and cannot swap it) whose certificate is chosen per handshake by SNI from a
 * table that follows the catalog, and whose sockets feed the same
 * ClientConnection as plain ones. TLS 1.2 and 1.3 (`tls_min_version`), the
 * server's cipher order, ALPN `http/1.1` only. Session tickets are on, with
 * keys the TLS library (BoringSSL) makes per listener and rotates every two
 * days, keeping the one before so recent tickets still resume. (Bun cannot set
 * ticket keys yet: `setTicketKeys` throws.)
 */
import { createServer, type TLSSocket } from "node:tls";
import type { ListenAddress } from "../config/address.ts";
import { log } from "../log.ts";
import type { Listening } from "../proxy/listener.ts";
import type { ListenerContext } from "../proxy/listener-context.ts";
import type { SniContexts } from "./sni.ts";
import { TlsClientSocket } from "./tls-socket.ts";

const ALPN = ["http/1.1"];

/**
 * Binds at once (Bun's `listen` does, though node's API reports errors later);
 * throws the system error (EADDRINUSE...) when it cannot.
 */
export function listenTls(
  address: ListenAddress,
  context: ListenerContext,
  sni: SniContexts,
  reusePort: boolean,
): Listening {
  const sockets = new WeakMap<TLSSocket, TlsClientSocket>();
  const server = createServer({
    ...sni.listenerOptions(),
    SNICallback: (servername, done) => done(null, sni.select(servername)),
    ALPNProtocols: ALPN,
    // A client may send its request and a FIN at once; it still gets its answer.
    allowHalfOpen: true,
    // The sweep closes a handshake that takes longer too; this timer is armed anyway.
    handshakeTimeout: context.timeouts.head,
  });
  // Without SNI the listener's own context answers: the default certificate's.
  const unfollow = sni.onDefaultChange(() => server.setSecureContext(sni.listenerOptions()));
  server.on("connection", (socket: TLSSocket) => {
    if (context.connections.size >= context.maxConnections) {
      // Refuse before the handshake: a full house must not spend its CPU on one.
      socket.destroy();
      return;
    }
    sockets.set(socket, new TlsClientSocket(socket, context));
  });
  server.on("secureConnection", (socket: TLSSocket) => sockets.get(socket)?.secured());
  server.on("tlsClientError", (error, socket) =>
    log.debug(`tls client ${socket.remoteAddress}: ${error.message}`),
  );
  let listening = false;
  server.on("error", (error) => {
    // A failed bind is thrown below; what comes later (EMFILE...) is logged.
    if (listening) log.warn(`tls listener ${address.text}: ${error.message}`);
  });
  server.listen({ host: address.host, port: address.port, reusePort });
  const bound = server.address();
  if (bound === null || typeof bound !== "object") {
    unfollow();
    throw bindError(address);
  }
  listening = true;
  let open = true;
  return {
    hostname: bound.address,
    port: bound.port,
    stop() {
      if (!open) return;
      open = false;
      unfollow();
      server.close();
    },
  };
}

/**
 * Why the address cannot be bound: the server says so only on its next tick,
 * so the same bind is tried once more where the error comes at once.
 */
function bindError(address: ListenAddress): Error {
  try {
    Bun.listen({ hostname: address.host, port: address.port, socket: { data() {} } }).stop(true);
  } catch (error) {
    return error as Error;
  }
  return new Error("the address cannot be bound");
}
