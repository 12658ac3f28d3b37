/** An HTTPS backend for tests: Bun.serve with a test certificate, on 127.0.0.1 and an OS-chosen port. */
import type { Server } from "bun";
import type { Pem } from "./certificates.ts";

export interface SeenTlsRequest {
  path: string;
  host: string | null;
  /** The client's port: one per TLS connection. */
  clientPort: number;
}

export interface TlsBackend {
  port: number;
  requests: SeenTlsRequest[];
  /** TLS connections that carried a request so far. */
  connections(): number;
  stop(): Promise<void>;
}

export function tlsBackend(pem: Pem, body = "over tls"): TlsBackend {
  const requests: SeenTlsRequest[] = [];
  const server: Server<undefined> = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: pem.chain, key: pem.key },
    fetch(request, server) {
      requests.push({
        path: new URL(request.url).pathname,
        host: request.headers.get("host"),
        clientPort: server.requestIP(request)?.port ?? -1,
      });
      return new Response(body);
    },
  });
  return {
    port: server.port!,
    requests,
    connections: () => new Set(requests.map((request) => request.clientPort)).size,
    stop: () => server.stop(true),
  };
}
