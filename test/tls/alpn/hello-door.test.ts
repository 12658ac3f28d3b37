/**
 * A TLS listener while a tls-alpn-01 check is pending: the CA's handshake
 * (the name, ALPN `acme-tls/1`) gets the challenge certificate, every other
 * client what it gets at any other time; open connections live through both
 * switches; a client that stalls or lies before its hello is closed.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import "../../support/quiet.ts";
import { X509Certificate } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Duplex } from "node:stream";
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
import { httpBackend, type TestBackend } from "../../support/backend.ts";
import { waitFor } from "../../support/wait.ts";
import { type CaFiles, caFiles, tlsClient } from "../harness.ts";

const NAME = "app.test";
const KEY_AUTHORIZATION = "token-1.thumbprint";

let dir: string;
let files: CaFiles;
let backend: TestBackend;
let plane: DataPlane;
const book = new ChallengeBook();
let port: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mantrid-alpn-"));
  files = await caFiles();
  backend = await httpBackend((request, response) => {
    response.setHeader("Content-Type", "text/plain");
    const body = `${request.headers["x-forwarded-for"]} ${request.headers["x-forwarded-proto"]}`;
    // A slow answer: the client's FIN comes well before it.
    if (request.url === "/slow") setTimeout(() => response.end(body), 100);
    else response.end(body);
  });
  const catalog = new CertificateCatalog();
  const pem = await files.issue([NAME]);
  catalog.put({
    name: NAME,
    cert: pem.chain,
    key: pem.key,
    source: "api",
    notBefore: 0,
    notAfter: Date.now() + 3_600_000,
    issuer: "CN=Mantrid Test CA",
    names: [NAME],
  });
  const address = parseAddress("127.0.0.1:0");
  plane = startDataPlane(
    // head_timeout closes the abusive clients below; long enough for a loaded machine's handshakes.
    { ...DEFAULTS, bind: [], bindTls: [address], staticDir: dir, headTimeout: 3 },
    new StatsBook(),
    { reusePort: true, certificates: catalog, challenges: book },
  );
  port = plane.ports.tls[0]!;
  const rule = parseRule(["proxy", { backends: [`127.0.0.1:${backend.port}`] }, false]);
  if (!rule.ok) throw new Error("rule");
  plane.table.set(NAME, rule.value);
});
afterAll(async () => {
  book.setAlpn(NAME, null);
  await plane.stop(0);
  await backend.close();
  await files.remove();
  await rm(dir, { recursive: true, force: true });
});

interface Shake {
  /** The leaf's PEM, or null when the handshake failed. */
  leaf: string | null;
  subject: string | null;
  protocol: string | false | null;
}

function handshake(servername: string | null, ALPNProtocols?: string[]): Promise<Shake> {
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
function isChallenge(shake: Shake): boolean {
  if (shake.leaf === null) return false;
  try {
    return acme.crypto.isAlpnCertificateAuthorizationValid(shake.leaf, KEY_AUTHORIZATION);
  } catch {
    return false;
  }
}

async function request(client: Awaited<ReturnType<typeof tlsClient>>): Promise<string> {
  client.clear();
  client.send(`GET / HTTP/1.1\r\nHost: ${NAME}\r\n\r\n`);
  const text = await client.until((received) => /\r\n\r\n127\.0\.0\.1 https$/.test(received));
  return text.slice(0, text.indexOf(" ", 9));
}

test("with no check pending, acme-tls/1 is a protocol like any the listener does not speak", async () => {
  // Refused with no_application_protocol, as any client offering only protocols it lacks.
  expect(await handshake(NAME, ["acme-tls/1"])).toEqual({
    leaf: null,
    subject: null,
    protocol: null,
  });
  expect((await handshake(NAME, ["acme-tls/1", "http/1.1"])).subject).toBe(`CN=${NAME}`);
});

test("while a check is pending only the CA's handshake gets the challenge; connections live through both switches", async () => {
  const before = await tlsClient(port, NAME, files.ca.cert);
  expect(await request(before)).toBe("HTTP/1.1 200");

  book.setAlpn(NAME, alpnCertificate(NAME, KEY_AUTHORIZATION));
  const ca = await handshake(NAME, ["acme-tls/1"]);
  expect(isChallenge(ca)).toBe(true);
  expect(ca.protocol).toBe("acme-tls/1");
  expect(new X509Certificate(ca.leaf!).subjectAltName).toBe(`DNS:${NAME}`);
  // A renewal's check: every other client of the name keeps the certificate it had.
  for (const protocols of [["http/1.1"], undefined, ["h2", "http/1.1"]]) {
    const ordinary = await handshake(NAME, protocols);
    expect(isChallenge(ordinary)).toBe(false);
    expect(ordinary.subject).toBe(`CN=${NAME}`);
  }
  // acme-tls/1 for a name with no check pending: that name's usual answer (none here: refused).
  expect((await handshake("other.test", ["acme-tls/1"])).leaf).toBeNull();
  expect((await handshake(null, ["acme-tls/1"])).leaf).toBeNull();

  // Requests keep working, on the old connection and on one made through the hello door.
  expect(await request(before)).toBe("HTTP/1.1 200");
  const during = await tlsClient(port, NAME, files.ca.cert);
  expect(await request(during)).toBe("HTTP/1.1 200");

  book.setAlpn(NAME, null);
  expect(isChallenge(await handshake(NAME, ["acme-tls/1"]))).toBe(false);
  expect(await request(during)).toBe("HTTP/1.1 200");
  expect(await request(before)).toBe("HTTP/1.1 200");
  const after = await tlsClient(port, NAME, files.ca.cert);
  expect(await request(after)).toBe("HTTP/1.1 200");
  for (const client of [before, during, after]) client.socket.destroy();
  await waitFor(() => plane.openConnections === 0, "every connection closed");
});

test("through the hello door, a request sent with a FIN at once still gets its answer", async () => {
  book.setAlpn(NAME, alpnCertificate(NAME, KEY_AUTHORIZATION));
  try {
    // TLS over a stream of the test's own, to send the TCP FIN right behind the
    // request's record (no close_notify: the TLS stays open).
    const tcp = tcpConnect({ host: "127.0.0.1", port, allowHalfOpen: true });
    let finAfterNext = false;
    const pipe = new Duplex({
      read: () => void tcp.resume(),
      write(chunk, _encoding, done) {
        if (tcp.writableEnded) return done(); // a close_notify on the way out, say
        tcp.write(chunk, done);
        if (finAfterNext) tcp.end();
      },
    });
    tcp.on("data", (chunk) => pipe.push(chunk));
    tcp.on("end", () => pipe.push(null));
    tcp.on("close", () => pipe.destroy());
    const client = tlsConnect({ socket: pipe, servername: NAME, ca: files.ca.cert });
    client.on("error", () => {});
    let received = "";
    client.setEncoding("latin1");
    client.on("data", (chunk: string) => {
      received += chunk;
    });
    client.once("secureConnect", () => {
      finAfterNext = true;
      client.write(`GET /slow HTTP/1.1\r\nHost: ${NAME}\r\n\r\n`);
    });
    await new Promise((resolve) => tcp.once("close", resolve));
    expect(received).toStartWith("HTTP/1.1 200");
    expect(received).toEndWith("127.0.0.1 https");
    await waitFor(() => plane.openConnections === 0, "the connection closed");
  } finally {
    book.setAlpn(NAME, null);
  }
});

test("a hello that comes a byte at a time is read, and the CA's handshake answered", async () => {
  book.setAlpn(NAME, alpnCertificate(NAME, KEY_AUTHORIZATION));
  try {
    const tcp = tcpConnect({ host: "127.0.0.1", port });
    tcp.setNoDelay(true);
    const pipe = new Duplex({
      read: () => void tcp.resume(),
      write(chunk: Buffer, _encoding, done) {
        for (let i = 0; i < chunk.length - 1; i++) tcp.write(chunk.subarray(i, i + 1));
        tcp.write(chunk.subarray(chunk.length - 1), done);
      },
    });
    tcp.on("data", (chunk) => pipe.push(chunk));
    tcp.on("end", () => pipe.push(null));
    tcp.on("error", () => pipe.destroy());
    const client = tlsConnect({
      socket: pipe,
      servername: NAME,
      ALPNProtocols: ["acme-tls/1"],
      rejectUnauthorized: false,
    });
    const leaf = await new Promise<string>((resolve, reject) => {
      client.once("secureConnect", () =>
        resolve(new X509Certificate(client.getPeerCertificate().raw).toString()),
      );
      client.once("error", reject);
      client.once("close", () => reject(new Error("closed before the handshake ended")));
    });
    expect(isChallenge({ leaf, subject: null, protocol: null })).toBe(true);
    tcp.destroy();
  } finally {
    book.setAlpn(NAME, null);
  }
});

/** A raw TCP client of the TLS port; resolves when the server closes it. */
function rawClient(send: (socket: import("node:net").Socket) => void): Promise<void> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: "127.0.0.1", port }, () => send(socket));
    socket.on("error", () => {});
    socket.resume(); // reads, so that the server's FIN is seen
    socket.on("close", () => resolve());
  });
}

test("an abusive client before its hello is closed, and counts no more", async () => {
  book.setAlpn(NAME, alpnCertificate(NAME, KEY_AUTHORIZATION));
  try {
    const hello = await capturedHello();
    await Promise.all([
      // Half a hello, then nothing: head_timeout closes it.
      rawClient((socket) => socket.write(hello.subarray(0, 40))),
      // Connects and sends nothing.
      rawClient(() => {}),
      // Half a hello and a FIN.
      rawClient((socket) => socket.end(hello.subarray(0, 40))),
      // No TLS at all.
      rawClient((socket) => socket.write(`GET / HTTP/1.1\r\nHost: ${NAME}\r\n\r\n`)),
      // A record header promising more than any hello, then bytes without end.
      rawClient((socket) =>
        socket.write(Buffer.concat([hello.subarray(0, 9), Buffer.alloc(20_000)])),
      ),
    ]);
    await waitFor(() => plane.openConnections === 0, "every connection closed");
    // The door still serves.
    expect(isChallenge(await handshake(NAME, ["acme-tls/1"]))).toBe(true);
  } finally {
    book.setAlpn(NAME, null);
  }
});

/** The first bytes node's TLS client sends for the name. */
async function capturedHello(): Promise<Buffer> {
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
