/**
 * What the hello door tests share: a data plane with one TLS listener, a
 * certificate for `app.test` proxied to a backend that names the client's
 * address and scheme (`/slow` answers late, `/big` sends 8 MiB), a
 * ChallengeBook that opens the door, and TLS clients that look at what they
 * are served.
 */
import "../../support/quiet.ts";
import { X509Certificate } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { type Socket, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import * as acme from "acme-client";
import { parseAddress } from "../../../src/config/address.ts";
import { DEFAULTS } from "../../../src/config/config.ts";
import { type DataPlane, startDataPlane } from "../../../src/proxy/data-plane.ts";
import { parseRule } from "../../../src/rules/schema.ts";
import { StatsBook } from "../../../src/stats/host-stats.ts";
import { alpnCertificate } from "../../../src/tls/alpn/certificate.ts";
import { CertificateCatalog } from "../../../src/tls/catalog.ts";
import { ChallengeBook } from "../../../src/tls/challenges.ts";
import { httpBackend } from "../../support/backend.ts";
import { caFiles, catalogEntry } from "../harness.ts";

export const NAME = "app.test";
export const KEY_AUTHORIZATION = "token-1.thumbprint";
export const BIG = 8 * 1024 * 1024;

export interface DoorPlane {
  readonly plane: DataPlane;
  readonly book: ChallengeBook;
  readonly port: number;
  /** The test CA's certificate, which signed `app.test`'s. */
  readonly ca: string;
  /** Puts a check for `app.test` in the book (the listener reads hellos), or with false ends it. */
  pending(on: boolean): void;
  stop(): Promise<void>;
}

/** head_timeout and send_timeout, in seconds: short, yet long enough for a loaded machine. */
export const DEADLINE_SECONDS = 3;

export async function startDoorPlane(): Promise<DoorPlane> {
  const dir = await mkdtemp(join(tmpdir(), "mantrid-alpn-"));
  const files = await caFiles();
  const big = Buffer.alloc(BIG, 0x61);
  const backend = await httpBackend((request, response) => {
    response.setHeader("Content-Type", "text/plain");
    const body = `${request.headers["x-forwarded-for"]} ${request.headers["x-forwarded-proto"]}`;
    // A slow answer: the client's FIN comes well before it.
    if (request.url === "/slow") setTimeout(() => response.end(body), 100);
    else response.end(request.url === "/big" ? big : body);
  });
  const catalog = new CertificateCatalog();
  const pem = await files.issue([NAME]);
  catalog.put(catalogEntry(NAME, pem));
  const book = new ChallengeBook();
  const plane = startDataPlane(
    {
      ...DEFAULTS,
      bind: [],
      bindTls: [parseAddress("127.0.0.1:0")],
      staticDir: dir,
      headTimeout: DEADLINE_SECONDS,
      sendTimeout: DEADLINE_SECONDS,
    },
    new StatsBook(),
    { reusePort: true, certificates: catalog, challenges: book },
  );
  const rule = parseRule(["proxy", { backends: [`127.0.0.1:${backend.port}`] }, false]);
  if (!rule.ok) throw new Error("rule");
  plane.table.set(NAME, rule.value);
  return {
    plane,
    book,
    port: plane.ports.tls[0]!,
    ca: files.ca.cert,
    pending: (on) => book.setAlpn(NAME, on ? alpnCertificate(NAME, KEY_AUTHORIZATION) : null),
    async stop() {
      book.setAlpn(NAME, null);
      await plane.stop(0);
      await backend.close();
      await files.remove();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface Shake {
  /** The leaf's PEM, or null when the handshake failed. */
  leaf: string | null;
  subject: string | null;
  protocol: string | false | null;
}

export function handshake(
  port: number,
  servername: string | null,
  ALPNProtocols?: string[],
): Promise<Shake> {
  return new Promise((resolve) => {
    const socket: TLSSocket = tlsConnect({
      host: "127.0.0.1",
      port,
      ...(servername === null ? {} : { servername }),
      ...(ALPNProtocols === undefined ? {} : { ALPNProtocols }),
      rejectUnauthorized: false,
    });
    socket.once("secureConnect", () => {
      const leaf = new X509Certificate(socket.getPeerCertificate().raw);
      resolve({
        leaf: leaf.toString(),
        subject: leaf.subject,
        protocol: socket.alpnProtocol ?? null,
      });
      socket.destroy();
    });
    socket.once("error", () => resolve({ leaf: null, subject: null, protocol: null }));
  });
}

/** Whether the leaf proves the key authorization (acme-client's own check; it throws for any other leaf). */
export function isChallenge(leaf: string | null): boolean {
  if (leaf === null) return false;
  try {
    return acme.crypto.isAlpnCertificateAuthorizationValid(leaf, KEY_AUTHORIZATION);
  } catch {
    return false;
  }
}

/** A raw TCP client of the TLS port that reads everything; resolves when the server closes it. */
export function rawClient(port: number, send: (socket: Socket) => void): Promise<void> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: "127.0.0.1", port }, () => send(socket));
    socket.on("error", () => {});
    socket.resume(); // reads, so that the server's FIN is seen
    socket.on("close", () => resolve());
  });
}

/** The first bytes node's TLS client sends for the name. */
export async function capturedHello(): Promise<Buffer> {
  const { promise, resolve } = Promise.withResolvers<Buffer>();
  const catcher = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(socket, data) {
        resolve(Buffer.from(data));
        socket.end();
      },
    },
  });
  const client = tlsConnect({ host: "127.0.0.1", port: catcher.port, servername: NAME });
  client.on("error", () => {});
  const hello = await promise;
  client.destroy();
  catcher.stop(true);
  return hello;
}
