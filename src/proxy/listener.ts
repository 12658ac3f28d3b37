/** A data-plane listener: accepts TCP and gives each connection its state machine. */
import type { TCPSocketListener } from "bun";
import type { ListenAddress } from "../config/address.ts";
import { errorResponse } from "../http/response-writer.ts";
import { log } from "../log.ts";
import { ClientConnection } from "./client-connection.ts";
import type { ListenerContext } from "./listener-context.ts";

/** A bound listener, plain or TLS: what the data plane stops and the log names. */
export interface Listening {
  readonly hostname: string;
  readonly port: number;
  /** Stops accepting; with `closeActiveConnections`, a plain listener also closes its sockets. */
  stop(closeActiveConnections?: boolean): void;
}

const TOO_MANY = errorResponse(503, "too many connections", [["Retry-After", "1"]]);

/** `reusePort` works at run time but is missing from Bun.listen's option types. */
type ListenOptions = import("bun").TCPSocketListenOptions<ClientConnection> & {
  reusePort?: boolean;
};

export function listen(
  address: ListenAddress,
  context: ListenerContext,
  reusePort = false,
): TCPSocketListener<ClientConnection> {
  const options: ListenOptions = {
    hostname: address.host,
    port: address.port,
    reusePort,
    // A client may send its request and a FIN at once; it still gets its answer.
    allowHalfOpen: true,
    socket: {
      open(socket) {
        if (context.connections.size >= context.maxConnections) {
          // Refuse at once rather than queue: a full house must not grow.
          socket.data = null as unknown as ClientConnection;
          socket.end(TOO_MANY);
          return;
        }
        const connection = new ClientConnection(socket, context);
        socket.data = connection;
        // Bun already sets TCP_NODELAY on accepted sockets: no second setsockopt.
        context.connections.add(connection);
      },
      data: (socket, chunk) => socket.data?.onData(chunk),
      drain: (socket) => socket.data?.onWritable(),
      end: (socket) => socket.data?.onPeerEnd(),
      close: (socket) => socket.data?.onClosed(),
      error: (socket, error) => log.debug(`client ${socket.data?.clientAddress}: ${error.message}`),
    },
  };
  return Bun.listen<ClientConnection>(options);
}
