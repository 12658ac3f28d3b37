/**
 * A `bind_tls` listener: a `node:tls` server (Bun.listen takes one certificate
 * and cannot swap it) whose certificate is chosen per handshake by SNI from a
 * table that follows the catalog, and whose sockets feed the same
 * ClientConnection as plain ones. TLS 1.2 and 1.3 (`tls_min_version`), the
 * server's cipher order, ALPN `http/1.1` only. Session tickets are on, with
 * keys the TLS library (BoringSSL) makes per listener and rotates every two
 * days, keeping the one before so recent tickets still resume. (Bun cannot set
 * ticket keys yet: `setTicketKeys` throws.)
 *
 * While a tls-alpn-01 check is pending the port is served by the hello door
 * instead (it reads each ClientHello first: node's TLS does not say which
 * ALPN protocols a client offers before its certificate is chosen): the new
 * door is bound beside the old with SO_REUSEPORT, then the old one stops
 * accepting; connections it accepted carry on.
 */
import { createServer, type TLSSocket } from "node:tls";
import type { ListenAddress } from "../config/address.ts";
import { log } from "../log.ts";
import type { Listening } from "../proxy/listener.ts";
import type { ListenerContext } from "../proxy/listener-context.ts";
import type { AlpnContexts } from "./alpn/contexts.ts";
import { type Door, openHelloDoor } from "./alpn/hello-door.ts";
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
  alpn: AlpnContexts | null = null,
): Listening {
  const bindError = () => bindErrorOf(address);
  let door = openNativeDoor(address.host, address.port, context, sni, reusePort, bindError);
  let helloDoor = false;
  const { hostname, port } = door;
  const switchDoor = (pending: boolean) => {
    if (alpn === null || pending === helloDoor) return;
    if (!reusePort) {
      log.warn(`tls listener ${address.text}: cannot answer tls-alpn-01 (the port is not shared)`);
      return;
    }
    try {
      const next = pending
        ? openHelloDoor({
            host: address.host,
            port,
            context,
            sni,
            alpn,
            protocols: ALPN,
            bindError,
          })
        : openNativeDoor(address.host, port, context, sni, true, bindError);
      door.close();
      door = next;
      helloDoor = pending;
      log.info(
        `tls listener ${address.text}: ${pending ? "reads each hello while a tls-alpn-01 check is pending" : "native TLS again"}`,
      );
    } catch (error) {
      // The door open keeps serving; a check then fails at the CA and says why.
      log.warn(`tls listener ${address.text}: cannot switch its door: ${(error as Error).message}`);
    }
  };
  const unfollow = alpn?.onPendingChange(switchDoor) ?? (() => {});
  switchDoor(alpn?.pending ?? false);
  let open = true;
  return {
    hostname,
    port,
    stop() {
      if (!open) return;
      open = false;
      unfollow();
      door.close();
    },
  };
}

function openNativeDoor(
  host: string,
  port: number,
  context: ListenerContext,
  sni: SniContexts,
  reusePort: boolean,
  bindError: () => Error,
): Door {
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
    if (listening) log.warn(`tls listener ${host}:${port}: ${error.message}`);
  });
  server.listen({ host, port, reusePort });
  const bound = server.address();
  if (bound === null || typeof bound !== "object") {
    unfollow();
    throw bindError();
  }
  listening = true;
  return {
    hostname: bound.address,
    port: bound.port,
    close() {
      unfollow();
      server.close();
    },
  };
}

/**
 * Why the address cannot be bound: the server says so only on its next tick,
 * so the same bind is tried once more where the error comes at once.
 */
function bindErrorOf(address: ListenAddress): Error {
  try {
    Bun.listen({ hostname: address.host, port: address.port, socket: { data() {} } }).stop(true);
  } catch (error) {
    return error as Error;
  }
  return new Error("the address cannot be bound");
}
