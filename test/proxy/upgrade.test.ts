/** WebSocket through Mantrid, and rule changes that leave open connections alone. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Server } from "bun";
import { startMantrid, type TestMantrid } from "../support/mantrid.ts";
import { connect, parseResponses, responses } from "../support/wire.ts";

let mantrid: TestMantrid;
let echo: Server<undefined>;

beforeAll(async () => {
  mantrid = await startMantrid();
  echo = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request, server) {
      if (server.upgrade(request)) return undefined;
      return new Response(`plain ${new URL(request.url).pathname}`);
    },
    websocket: {
      message(ws, message) {
        ws.send(`echo: ${message}`);
      },
    },
  });
  await mantrid.set("ws.test", ["proxy", { backends: [`127.0.0.1:${echo.port}`] }, false]);
});
afterAll(async () => {
  await mantrid.stop();
  echo.stop(true);
});

function open(): Promise<{ ws: WebSocket; next: () => Promise<string> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${mantrid.port}/chat`, {
    headers: { Host: "ws.test" },
  } as never);
  const queue: string[] = [];
  let waiting: ((text: string) => void) | null = null;
  ws.onmessage = (event) => {
    if (waiting) {
      const resolve = waiting;
      waiting = null;
      resolve(String(event.data));
    } else queue.push(String(event.data));
  };
  const next = () =>
    queue.length > 0
      ? Promise.resolve(queue.shift()!)
      : new Promise<string>((resolve) => (waiting = resolve));
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve({ ws, next });
    ws.onerror = () => reject(new Error("WebSocket failed"));
  });
}

test("a WebSocket echo works end to end", async () => {
  const { ws, next } = await open();
  ws.send("hello");
  expect(await next()).toBe("echo: hello");
  const big = "x".repeat(1_000_000);
  ws.send(big);
  expect(await next()).toBe(`echo: ${big}`);
  ws.close();
});

test("an upgraded connection stays up through rule changes, even to its own rule", async () => {
  const { ws, next } = await open();
  ws.send("one");
  expect(await next()).toBe("echo: one");
  await mantrid.set("ws.test", ["static", { type: "test" }, false]);
  await mantrid.set("other.test", ["spin", {}, false]);
  await fetch(`${mantrid.url}/hostname/other.test/`, { method: "DELETE" });
  ws.send("two");
  expect(await next()).toBe("echo: two");
  // New requests see the new rule, while the old socket still talks to the backend.
  const connection = await connect(mantrid.port);
  connection.send("GET / HTTP/1.1\r\nHost: ws.test\r\nConnection: close\r\n\r\n");
  expect(parseResponses(await connection.closed)[0]!.body.toString()).toContain("Congratulations");
  ws.send("three");
  expect(await next()).toBe("echo: three");
  ws.close();
  await mantrid.set("ws.test", ["proxy", { backends: [`127.0.0.1:${echo.port}`] }, false]);
});

test("the next request on a keep-alive connection sees a changed rule", async () => {
  const connection = await connect(mantrid.port);
  connection.send("GET /a HTTP/1.1\r\nHost: ws.test\r\n\r\n");
  const [first] = await responses(connection, 1);
  expect(first!.body.toString()).toBe("plain /a");
  await mantrid.set("ws.test", ["empty", { code: 202 }, false]);
  connection.send("GET /b HTTP/1.1\r\nHost: ws.test\r\n\r\n");
  const all = await responses(connection, 2);
  expect(all[1]!.status).toBe(202);
  connection.destroy();
  await mantrid.set("ws.test", ["proxy", { backends: [`127.0.0.1:${echo.port}`] }, false]);
});

test("CONNECT accepted by the backend becomes a two-way tunnel", async () => {
  // A backend that accepts CONNECT, then echoes every byte in upper case.
  const tunnelEnd = Bun.listen<{ open: boolean }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.data = { open: false };
      },
      data(socket, data) {
        if (!socket.data.open) {
          socket.data.open = true;
          socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
          return;
        }
        socket.write(data.toString("latin1").toUpperCase());
      },
    },
  });
  await mantrid.set("tunnel.test", ["proxy", { backends: [`127.0.0.1:${tunnelEnd.port}`] }, false]);
  const connection = await connect(mantrid.port);
  connection.send("CONNECT tunnel.test:443 HTTP/1.1\r\nHost: tunnel.test:443\r\n\r\n");
  await connection.until((bytes) => bytes.includes("\r\n\r\n"));
  expect(connection.received().toString("latin1")).toStartWith("HTTP/1.1 200");
  const headLength = connection.received().length;
  connection.send("hello tunnel");
  const all = await connection.until((bytes) => bytes.length >= headLength + 12);
  expect(all.subarray(headLength).toString("latin1")).toBe("HELLO TUNNEL");
  connection.destroy();
  tunnelEnd.stop(true);
});
