/**
 * `--targets bun-pipe`: the least any proxy built on Bun.listen can do, as a
 * yardstick. Each client connection gets a backend connection of its own and
 * bytes are piped both ways as they come: no parsing, no routing, no pooling,
 * no added headers. Run as its own process with `bun bench/bun-pipe.ts`
 * (BENCH_PIPE_TO is the backend's port); logs `listening on 127.0.0.1:PORT`.
 */
import type { Socket } from "bun";

const backendPort = Number(process.env.BENCH_PIPE_TO);

/** One side of a pipe: what it still has to write, and the side it reads for. */
interface Side {
  peer: Socket<Side> | null;
  queue: Uint8Array[];
  /** The peer has closed: end this side once its queue is written. */
  ending: boolean;
  /** A client's backend side while it connects: what the client sends waits in its queue. */
  opening: Side | null;
}

const side = (peer: Socket<Side> | null): Side => ({
  peer,
  queue: [],
  ending: false,
  opening: null,
});

/** Writes to `to` what `from` read; a socket that cannot take it all pauses `from`. */
function pass(to: Socket<Side>, from: Socket<Side>, bytes: Uint8Array): void {
  if (to.data.queue.length === 0) {
    const written = to.write(bytes);
    if (written === bytes.length) return;
    bytes = bytes.subarray(Math.max(0, written));
  }
  to.data.queue.push(bytes);
  from.pause();
}

/** Writes what waited; once all of it is out, the other side reads again. */
function flush(socket: Socket<Side>): void {
  const { queue } = socket.data;
  while (queue.length > 0) {
    const bytes = queue[0]!;
    const written = socket.write(bytes);
    if (written < bytes.length) {
      queue[0] = bytes.subarray(Math.max(0, written));
      return;
    }
    queue.shift();
  }
  if (socket.data.ending) socket.end();
  else socket.data.peer?.resume();
}

function peerClosed(socket: Socket<Side>): void {
  socket.data.ending = true;
  if (socket.data.queue.length === 0) socket.end();
}

const server = Bun.listen<Side>({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    open(client) {
      client.data = side(null);
      client.data.opening = side(client);
      Bun.connect<Side>({
        hostname: "127.0.0.1",
        port: backendPort,
        data: client.data.opening,
        socket: {
          open(backend) {
            client.data.peer = backend;
            client.data.opening = null;
            flush(backend);
          },
          data: (backend, chunk) => pass(backend.data.peer!, backend, chunk),
          drain: flush,
          close: (backend) => peerClosed(backend.data.peer!),
          error: (backend) => {
            backend.data.peer?.end();
          },
        },
      }).catch(() => client.end());
    },
    data(client, chunk) {
      const backend = client.data.peer;
      if (backend !== null) pass(backend, client, chunk);
      else client.data.opening?.queue.push(chunk);
    },
    drain: flush,
    close: (client) => {
      if (client.data.peer !== null) peerClosed(client.data.peer);
    },
  },
});

process.stderr.write(`listening on 127.0.0.1:${server.port}\n`);
process.on("SIGTERM", () => {
  server.stop(true);
  process.exit(0);
});
