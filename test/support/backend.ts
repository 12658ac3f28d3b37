/** Real HTTP backends for tests, on 127.0.0.1 and an OS-chosen port. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  rawHeaders: string[];
}

export interface TestBackend {
  port: number;
  server: Server;
  /** TCP connections accepted so far. */
  connections: number;
  requests: SeenRequest[];
  close(): Promise<void>;
}

export type Handler = (request: IncomingMessage, response: ServerResponse) => void;

export async function httpBackend(handler: Handler, port = 0): Promise<TestBackend> {
  const server = createServer({ keepAliveTimeout: 60_000 }, (request, response) => {
    backend.requests.push({
      method: request.method ?? "",
      url: request.url ?? "",
      headers: request.headers,
      rawHeaders: request.rawHeaders,
    });
    handler(request, response);
  });
  const sockets = new Set<import("node:net").Socket>();
  server.on("connection", (socket) => {
    backend.connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const backend: TestBackend = {
    port: (server.address() as AddressInfo).port,
    server,
    connections: 0,
    requests: [],
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  return backend;
}

/** A backend that answers every request with `body` and names itself in `X-Backend`. */
export function namedBackend(name: string, port = 0): Promise<TestBackend> {
  return httpBackend((_request, response) => {
    response.setHeader("X-Backend", name);
    response.end(name);
  }, port);
}

/** A port that was just free: bound, then released. */
export async function freePort(): Promise<number> {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}
