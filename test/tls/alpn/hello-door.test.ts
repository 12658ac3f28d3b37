/**
 * A TLS listener while a tls-alpn-01 check is pending: the CA's handshake
 * (the name, ALPN `acme-tls/1`) gets the challenge certificate, every other
 * client what it gets at any other time, and open connections live through
 * both switches.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { connect as tcpConnect } from "node:net";
import { Duplex } from "node:stream";
import { connect as tlsConnect } from "node:tls";
import { waitFor } from "../../support/wait.ts";
import { type TlsClient, tlsClient } from "../harness.ts";
import { type DoorPlane, handshake, isChallenge, NAME, startDoorPlane } from "./door-plane.ts";

let door: DoorPlane;
beforeAll(async () => {
  door = await startDoorPlane();
});
afterAll(() => door.stop());

async function request(client: TlsClient): Promise<string> {
  client.clear();
  client.send(`GET / HTTP/1.1\r\nHost: ${NAME}\r\n\r\n`);
  const text = await client.until((received) => /\r\n\r\n127\.0\.0\.1 https$/.test(received));
  return text.slice(0, text.indexOf(" ", 9));
}

test("with no check pending, acme-tls/1 is a protocol like any the listener does not speak", async () => {
  // Refused with no_application_protocol, as any client offering only protocols it lacks.
  expect(await handshake(door.port, NAME, ["acme-tls/1"])).toEqual({
    leaf: null,
    subject: null,
    protocol: null,
  });
  expect((await handshake(door.port, NAME, ["acme-tls/1", "http/1.1"])).subject).toBe(`CN=${NAME}`);
});

test("while a check is pending only the CA's handshake gets the challenge; connections live through both switches", async () => {
  const before = await tlsClient(door.port, NAME, door.ca);
  expect(await request(before)).toBe("HTTP/1.1 200");

  door.pending(true);
  const ca = await handshake(door.port, NAME, ["acme-tls/1"]);
  expect(isChallenge(ca.leaf)).toBe(true);
  expect(ca.protocol).toBe("acme-tls/1");
  expect(new X509Certificate(ca.leaf!).subjectAltName).toBe(`DNS:${NAME}`);
  // A renewal's check: every other client of the name keeps the certificate it had.
  for (const protocols of [["http/1.1"], undefined, ["h2", "http/1.1"]]) {
    const ordinary = await handshake(door.port, NAME, protocols);
    expect(isChallenge(ordinary.leaf)).toBe(false);
    expect(ordinary.subject).toBe(`CN=${NAME}`);
  }
  // acme-tls/1 for a name with no check pending: that name's usual answer (none here: refused).
  expect((await handshake(door.port, "other.test", ["acme-tls/1"])).leaf).toBeNull();
  expect((await handshake(door.port, null, ["acme-tls/1"])).leaf).toBeNull();

  // Requests keep working, on the old connection and on one made through the hello door.
  expect(await request(before)).toBe("HTTP/1.1 200");
  const during = await tlsClient(door.port, NAME, door.ca);
  expect(await request(during)).toBe("HTTP/1.1 200");

  door.pending(false);
  expect(isChallenge((await handshake(door.port, NAME, ["acme-tls/1"])).leaf)).toBe(false);
  expect(await request(during)).toBe("HTTP/1.1 200");
  expect(await request(before)).toBe("HTTP/1.1 200");
  const after = await tlsClient(door.port, NAME, door.ca);
  expect(await request(after)).toBe("HTTP/1.1 200");
  for (const client of [before, during, after]) client.socket.destroy();
  await waitFor(() => door.plane.openConnections === 0, "every connection closed");
});

test("a hello that comes a byte at a time is read, and the CA's handshake answered", async () => {
  door.pending(true);
  try {
    const tcp = tcpConnect({ host: "127.0.0.1", port: door.port });
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
    expect(isChallenge(leaf)).toBe(true);
    tcp.destroy();
  } finally {
    door.pending(false);
  }
});
