/**
 * How connections end on the hello door: a FIN right behind a request, an
 * answer far larger than the socket buffers sent with `Connection: close`, a
 * reader that stops, and clients that stall or lie before their hello. Each
 * gets what it would on the native listener, and counts no more after.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect as tcpConnect } from "node:net";
import { Duplex } from "node:stream";
import { connect as tlsConnect } from "node:tls";
import { waitFor } from "../../support/wait.ts";
import {
  BIG,
  capturedHello,
  type DoorPlane,
  handshake,
  isChallenge,
  NAME,
  rawClient,
  startDoorPlane,
} from "./door-plane.ts";

let door: DoorPlane;
beforeAll(async () => {
  door = await startDoorPlane();
  door.pending(true);
});
afterAll(() => door.stop());

test("a request sent with a FIN at once still gets its answer", async () => {
  // TLS over a stream of the test's own, to send the TCP FIN right behind the
  // request's record (no close_notify: the TLS stays open).
  const tcp = tcpConnect({ host: "127.0.0.1", port: door.port, allowHalfOpen: true });
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
  const client = tlsConnect({ socket: pipe, servername: NAME, ca: door.ca });
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
  await waitFor(() => door.plane.openConnections === 0, "the connection closed");
});

/** GET /big with `Connection: close`; `read` false: the client takes nothing until told. */
function bigAnswer(read: boolean) {
  const client = tlsConnect({ host: "127.0.0.1", port: door.port, servername: NAME, ca: door.ca });
  let received = 0;
  const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
  client.on("error", () => {});
  client.once("secureConnect", () => {
    client.write(`GET /big HTTP/1.1\r\nHost: ${NAME}\r\nConnection: close\r\n\r\n`);
    if (!read) client.pause();
  });
  client.on("data", (chunk: Buffer) => {
    received += chunk.length;
  });
  return { client, closed, received: () => received };
}

test("an answer far larger than the socket buffers, with Connection: close, arrives whole", async () => {
  for (let i = 0; i < 3; i++) {
    const answer = bigAnswer(true);
    await answer.closed;
    // The head, then every byte of the body: nothing was cut when the connection closed.
    expect(answer.received()).toBeGreaterThan(BIG);
    expect(answer.received()).toBeLessThan(BIG + 512);
  }
  await waitFor(() => door.plane.openConnections === 0, "every connection closed");
});

test("a client that stops reading a large answer is cut off by send_timeout", async () => {
  const answer = bigAnswer(false);
  await waitFor(() => door.plane.openConnections === 1, "the answer under way");
  await waitFor(() => door.plane.openConnections === 0, "the reader cut off", 15_000);
  answer.client.resume();
  await answer.closed;
  expect(answer.received()).toBeLessThan(BIG);
});

test("a client that stalls or lies before its hello is closed, and counts no more", async () => {
  const hello = await capturedHello();
  await Promise.all([
    // Half a hello, then nothing: head_timeout closes it.
    rawClient(door.port, (socket) => socket.write(hello.subarray(0, 40))),
    // Connects and sends nothing.
    rawClient(door.port, () => {}),
    // Half a hello and a FIN.
    rawClient(door.port, (socket) => socket.end(hello.subarray(0, 40))),
    // No TLS at all.
    rawClient(door.port, (socket) => socket.write(`GET / HTTP/1.1\r\nHost: ${NAME}\r\n\r\n`)),
    // A record header promising more than any hello, then bytes without end.
    rawClient(door.port, (socket) =>
      socket.write(Buffer.concat([hello.subarray(0, 9), Buffer.alloc(20_000)])),
    ),
  ]);
  await waitFor(() => door.plane.openConnections === 0, "every connection closed");
  // The door still serves.
  expect(isChallenge((await handshake(door.port, NAME, ["acme-tls/1"])).leaf)).toBe(true);
});
