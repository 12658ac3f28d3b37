/**
 * A yardstick for `--tls`, run by hand: the least a TLS-terminating proxy on
 * Bun can do. Each client connection gets a backend connection of its own and
 * bytes are piped both ways, nothing parsed or added (as bench/bun-pipe.ts
 * does without TLS). `TLS_PIPE_MODE=node` terminates TLS with `node:tls`, as
 * Mantrid's `bind_tls` does; `bun` with `Bun.listen({ tls })`, which has no
 * node stream in between. Their distance is what the `node:tls` layer costs.
 *
 *   TLS_PIPE_TO=<backend port> TLS_PIPE_PEM=<leaf, chain and key in one file> \
 *     TLS_PIPE_MODE=node bun bench/tls-pipe.ts      # logs `listening on 127.0.0.1:PORT`
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:tls";
import type { Socket } from "bun";

const backendPort = Number(process.env.TLS_PIPE_TO);
const pem = readFileSync(process.env.TLS_PIPE_PEM ?? "", "utf8");
const keyAt = pem.search(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
const key = pem.slice(keyAt);
const cert = pem.slice(0, keyAt);

/** A plain or TLS socket's writer that keeps what the socket did not take. */
interface Out {
  write(bytes: Uint8Array): number;
  end(): void;
}

/** Bytes waiting for a socket, written from its `drain`. */
class Pipe {
  readonly queue: Uint8Array[] = [];
  ending = false;
  constructor(readonly out: Out | null) {}

  send(bytes: Uint8Array): void {
    if (this.out !== null && this.queue.length === 0) {
      const written = this.out.write(bytes);
      if (written === bytes.length) return;
      bytes = bytes.subarray(Math.max(0, written));
    }
    this.queue.push(bytes);
  }

  flush(out: Out): void {
    while (this.queue.length > 0) {
      const bytes = this.queue[0]!;
      const written = out.write(bytes);
      if (written < bytes.length) {
        this.queue[0] = bytes.subarray(Math.max(0, written));
        return;
      }
      this.queue.shift();
    }
    if (this.ending) out.end();
  }

  close(): void {
    this.ending = true;
    if (this.queue.length === 0) this.out?.end();
  }
}

/** A backend connection whose answers go to `toClient`; what is sent before it opens waits. */
function openBackend(toClient: (bytes: Uint8Array) => void, onClose: () => void) {
  const waiting: Uint8Array[] = [];
  let pipe: Pipe | null = null;
  void Bun.connect<null>({
    hostname: "127.0.0.1",
    port: backendPort,
    socket: {
      open(backend) {
        pipe = new Pipe(backend);
        for (const bytes of waiting) pipe.send(bytes);
      },
      data: (_backend, chunk) => toClient(chunk),
      drain: (backend) => pipe?.flush(backend),
      close: onClose,
      error() {},
    },
  });
  return {
    send: (bytes: Uint8Array) => (pipe === null ? void waiting.push(bytes) : pipe.send(bytes)),
    close: () => pipe?.close(),
  };
}

function listenNode(): number {
  const server = createServer(
    { key, cert, ALPNProtocols: ["http/1.1"], allowHalfOpen: true },
    (client) => {
      // A node stream keeps what it is given: its own buffer is the queue.
      const backend = openBackend(
        (bytes) => void client.write(bytes),
        () => client.end(),
      );
      client.on("data", (chunk: Buffer) => backend.send(chunk));
      client.on("end", () => backend.close());
      client.on("error", () => {});
    },
  );
  server.listen(0, "127.0.0.1");
  return (server.address() as { port: number }).port;
}

function listenBun(): number {
  type Client = { pipe: Pipe; backend: ReturnType<typeof openBackend> };
  const server = Bun.listen<Client>({
    hostname: "127.0.0.1",
    port: 0,
    tls: { key, cert },
    socket: {
      open(client: Socket<Client>) {
        const pipe = new Pipe(client);
        client.data = {
          pipe,
          backend: openBackend(
            (bytes) => pipe.send(bytes),
            () => pipe.close(),
          ),
        };
      },
      data: (client, chunk) => client.data.backend.send(chunk),
      drain: (client) => client.data.pipe.flush(client),
      end: (client) => client.data.backend.close(),
      close: (client) => client.data.backend.close(),
      error() {},
    },
  });
  return server.port;
}

const port = process.env.TLS_PIPE_MODE === "bun" ? listenBun() : listenNode();
process.stderr.write(`listening on 127.0.0.1:${port}\n`);
