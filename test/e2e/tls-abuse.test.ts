/**
 * Clients that abuse a TLS listener: one that never says hello, one that stops
 * halfway through it, one that stops reading a large response, and more of
 * them than `max_connections`. Each is closed in time, the open-connection
 * count returns to 0, and the listener serves others throughout.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import "../support/quiet.ts";
import { connect as tlsConnect } from "node:tls";
import { parseAddress } from "../../src/config/address.ts";
import { httpBackend, type TestBackend } from "../support/backend.ts";
import { startMantrid, type TestMantrid } from "../support/mantrid.ts";
import { waitFor } from "../support/wait.ts";
import { connect } from "../support/wire.ts";
import { type CaFiles, caFiles, curlHttps, putCertificate, tlsClient } from "../tls/harness.ts";

const BODY_CHUNK = Buffer.alloc(1 << 20, 0x61);
/** Far more than the socket buffers of both ends hold. */
const BODY_CHUNKS = 256;

let files: CaFiles;
let mantrid: TestMantrid;
let backend: TestBackend;
let port: number;

beforeAll(async () => {
  files = await caFiles();
  mantrid = await startMantrid({
    bindTls: [parseAddress("127.0.0.1:0")],
    headTimeout: 0.3,
    sendTimeout: 0.5,
    maxConnections: 3,
  });
  port = mantrid.running.ports.tls[0]!;
  backend = await httpBackend((_request, response) => {
    response.setHeader("Content-Length", BODY_CHUNK.length * BODY_CHUNKS);
    let sent = 0;
    const more = () => {
      while (sent < BODY_CHUNKS && !response.destroyed) {
        sent++;
        if (!response.write(BODY_CHUNK)) return void response.once("drain", more);
      }
      response.end();
    };
    more();
  });
  await mantrid.set("big.test", ["proxy", { backends: [`127.0.0.1:${backend.port}`] }, false]);
  await mantrid.set("page.test", ["static", { type: "test" }, false]);
  await putCertificate(mantrid.url, "big.test", await files.issue(["big.test"]));
  await putCertificate(mantrid.url, "page.test", await files.issue(["page.test"]));
});
afterAll(async () => {
  await mantrid.stop();
  await backend.close();
  await files.remove();
});

const open = () => mantrid.running.openConnections();

test("a TCP client that never sends a ClientHello is closed by head_timeout", async () => {
  const silent = await connect(port);
  await waitFor(() => open() === 1, "the connection to count");
  await silent.closed;
  await waitFor(() => open() === 0, "the count to return to 0");
});

test("a client that stops halfway through its hello is closed too", async () => {
  const halfway = await connect(port);
  // A TLS record header announcing a handshake message of 512 bytes, and 5 of them.
  halfway.send(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03]));
  await halfway.closed;
  await waitFor(() => open() === 0, "the count to return to 0");
  expect((await curlHttps("page.test", port, files.caFile)).status).toBe(200);
});

test("a client that stops reading a large response is cut off by send_timeout", async () => {
  const reader = await tlsClient(port, "big.test", files.ca.cert);
  reader.send("GET / HTTP/1.1\r\nHost: big.test\r\n\r\n");
  await reader.until((text) => text.includes("\r\n\r\n"));
  reader.socket.pause();
  // A paused client cannot see its connection go: the server's count shows it.
  await waitFor(() => open() === 0, "the count to return to 0");
  reader.socket.resume();
  await reader.closed;
  expect(reader.received().length).toBeLessThan(BODY_CHUNK.length * BODY_CHUNKS);
  expect((await curlHttps("page.test", port, files.caFile)).status).toBe(200);
});

test("past max_connections a TLS client is closed before its handshake; later ones are served", async () => {
  const held = await Promise.all([1, 2, 3].map(() => tlsClient(port, "page.test", files.ca.cert)));
  await waitFor(() => open() === 3, "three open connections");
  const refused = await new Promise<string>((resolve) => {
    const socket = tlsConnect({
      host: "127.0.0.1",
      port,
      servername: "page.test",
      ca: files.ca.cert,
    });
    socket.on("secureConnect", () => resolve("handshake"));
    socket.on("error", (error) => resolve(error.message));
  });
  expect(refused).not.toBe("handshake");
  for (const client of held) client.socket.destroy();
  await waitFor(() => open() === 0, "the count to return to 0");
  expect((await curlHttps("page.test", port, files.caFile)).status).toBe(200);
});
