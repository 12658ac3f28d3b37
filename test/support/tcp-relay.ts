/**
 * A TCP relay on 127.0.0.1 to a target port that a test can cut (every
 * connection dropped, new ones refused at once) and restore: a network
 * partition between one client and its server, without touching the server.
 */
import type { Socket, TCPSocketListener } from "bun";

export interface TcpRelay {
  port: number;
  /** Drops every relayed connection and refuses new ones until `restore`. */
  cut(): void;
  restore(): void;
  close(): void;
}

interface Side {
  peer: Socket<Side> | null;
  /** What the peer could not take yet, or what arrived before the peer was connected. */
  pending: Buffer[];
}

export function startTcpRelay(targetPort: number): TcpRelay {
  let open = true;
  const sockets = new Set<Socket<Side>>();
  const send = (to: Socket<Side> | null, from: Socket<Side>, data: Buffer) => {
    const queue = from.data.pending;
    if (to === null || queue.length > 0) {
      queue.push(data);
      return;
    }
    const written = to.write(data);
    if (written < data.length) queue.push(data.subarray(written));
  };
  const flush = (to: Socket<Side>, from: Socket<Side>) => {
    const queue = from.data.pending;
    while (queue.length > 0) {
      const data = queue[0]!;
      const written = to.write(data);
      if (written < data.length) {
        queue[0] = data.subarray(written);
        return;
      }
      queue.shift();
    }
  };
  const handlers = {
    data(socket: Socket<Side>, data: Buffer) {
      send(socket.data.peer, socket, data);
    },
    drain(socket: Socket<Side>) {
      // `socket` can take more: send what its peer had for it.
      const peer = socket.data.peer;
      if (peer !== null) flush(socket, peer);
    },
    close(socket: Socket<Side>) {
      sockets.delete(socket);
      socket.data.peer?.end();
    },
    error(socket: Socket<Side>) {
      socket.data.peer?.end();
    },
  };
  const listener: TCPSocketListener<Side> = Bun.listen<Side>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      ...handlers,
      open(client) {
        client.data = { peer: null, pending: [] };
        if (!open) {
          client.end();
          return;
        }
        sockets.add(client);
        Bun.connect<Side>({
          hostname: "127.0.0.1",
          port: targetPort,
          data: { peer: client, pending: [] },
          socket: {
            ...handlers,
            open(server) {
              sockets.add(server);
              client.data.peer = server;
              flush(server, client);
            },
            connectError() {
              client.end();
            },
          },
        }).catch(() => client.end());
      },
    },
  });
  return {
    port: listener.port,
    cut() {
      open = false;
      for (const socket of sockets) socket.terminate();
      sockets.clear();
    },
    restore() {
      open = true;
    },
    close() {
      this.cut();
      listener.stop(true);
    },
  };
}
