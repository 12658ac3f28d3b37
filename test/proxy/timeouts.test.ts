/** Timeouts from mantrid.conf: head, idle (client and pooled backend), backend response. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { httpBackend, type TestBackend } from "../support/backend.ts";
import { startMantrid, type TestMantrid } from "../support/mantrid.ts";
import { connect, parseResponses, responses } from "../support/wire.ts";

let mantrid: TestMantrid;
let silent: TestBackend;
beforeAll(async () => {
  mantrid = await startMantrid({ headTimeout: 0.2, idleTimeout: 0.3, backendTimeout: 0.2 });
  silent = await httpBackend(() => {
    // Never answers.
  });
  await mantrid.set("silent.test", ["proxy", { backends: [`127.0.0.1:${silent.port}`] }, false]);
  await mantrid.set("page.test", ["static", { type: "test" }, false]);
});
afterAll(async () => {
  await mantrid.stop();
  await silent.close();
});

test("a client that dribbles its head gets 408 and is closed", async () => {
  const connection = await connect(mantrid.port);
  connection.send("GET / HTTP/1.1\r\nHo");
  const [response] = parseResponses(await connection.closed);
  expect(response!.status).toBe(408);
});

test("an idle keep-alive connection is closed after idle_timeout", async () => {
  const connection = await connect(mantrid.port);
  connection.send("GET / HTTP/1.1\r\nHost: page.test\r\n\r\n");
  await responses(connection, 1);
  const all = parseResponses(await connection.closed);
  expect(all).toHaveLength(1);
});

test("a backend that sends no response head within backend_timeout: 504", async () => {
  const connection = await connect(mantrid.port);
  connection.send("GET / HTTP/1.1\r\nHost: silent.test\r\nConnection: close\r\n\r\n");
  const [response] = parseResponses(await connection.closed);
  expect(response!.status).toBe(504);
});

test("a pooled backend connection idle past idle_timeout is closed by Mantrid", async () => {
  const backend = await httpBackend((_request, response) => response.end("ok"));
  backend.server.keepAliveTimeout = 60_000;
  const closed = Promise.withResolvers<void>();
  backend.server.on("connection", (socket) => socket.on("close", () => closed.resolve()));
  await mantrid.set("pooled.test", ["proxy", { backends: [`127.0.0.1:${backend.port}`] }, false]);
  const connection = await connect(mantrid.port);
  connection.send("GET / HTTP/1.1\r\nHost: pooled.test\r\nConnection: close\r\n\r\n");
  expect(parseResponses(await connection.closed)[0]!.status).toBe(200);
  // The backend keeps its side open for a minute; Mantrid's pool lets go after 0.3 s.
  await closed.promise;
  expect(backend.connections).toBe(1);
  await backend.close();
});
