/**
 * Every connection ends by itself, whatever the client does: each abusive
 * client below is closed by Mantrid within the deadline of its phase (the
 * test's own timeout is the only clock), and afterwards the server holds no
 * connection and every hostname's `open_requests` is back at 0.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { startMantrid, type TestMantrid } from "../support/mantrid.ts";
import { type RecordingBackend, recordingBackend } from "../support/recording-backend.ts";
import { waitFor } from "../support/wait.ts";
import { connect, parseResponses, responses } from "../support/wire.ts";

let mantrid: TestMantrid;
let silent: Bun.TCPSocketListener<undefined>;
let recorder: RecordingBackend;
let huge: Bun.TCPSocketListener<undefined>;
const hugeClosed: Promise<void>[] = [];

beforeAll(async () => {
  mantrid = await startMantrid({
    headTimeout: 0.5,
    bodyTimeout: 0.5,
    sendTimeout: 0.5,
    lingerTimeout: 0.5,
    // Shorter than body_timeout: a backend that never answers is given up first.
    backendTimeout: 0.25,
    maxConnections: 3,
  });
  // Reads and never answers, not even with a 100 Continue.
  silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  recorder = await recordingBackend();
  huge = serveEndlessResponse();
  const proxy = (port: number) => ["proxy", { backends: [`127.0.0.1:${port}`] }, false];
  await mantrid.set("static.test", ["static", { type: "test" }, false]);
  await mantrid.set("empty.test", ["empty", { code: 204 }, false]);
  await mantrid.set("redirect.test", ["redirect", { redirect_to: "https://example.com" }, false]);
  await mantrid.set("spin.test", ["spin", { timeout: 0.3 }, false]);
  await mantrid.set("silent.test", proxy(silent.port));
  await mantrid.set("recorded.test", proxy(recorder.port));
  await mantrid.set("huge.test", proxy(huge.port));
});

afterAll(async () => {
  await mantrid.stop();
  silent.stop(true);
  recorder.close();
  huge.stop(true);
});

afterEach(async () => {
  await allClosed();
});

/** Mantrid holds no client connection and counts no open request. */
async function allClosed(): Promise<void> {
  await waitFor(() => mantrid.running.openConnections() === 0, "every connection to close");
  await waitFor(async () => {
    const stats = (await (await fetch(`${mantrid.url}/stats/`)).json()) as Record<
      string,
      { open_requests: number }
    >;
    return Object.values(stats).every((host) => host.open_requests === 0);
  }, "open_requests back at 0");
}

/** A backend that answers with an endless body, and notes when each of its connections closes. */
function serveEndlessResponse(): Bun.TCPSocketListener<undefined> {
  const chunk = Buffer.alloc(256 * 1024, 0x61);
  const pump = (socket: Socket<undefined>) => {
    while (socket.write(chunk) === chunk.length) {}
  };
  return Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        const closed = Promise.withResolvers<void>();
        hugeClosed.push(closed.promise);
        (socket as unknown as { closed: () => void }).closed = closed.resolve;
      },
      data(socket) {
        socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${100 * 1024 * 1024}\r\n\r\n`);
        pump(socket);
      },
      drain: pump,
      close(socket) {
        (socket as unknown as { closed: () => void }).closed();
      },
    },
  });
}

const UPLOAD_HEAD = (host: string) =>
  `POST /upload HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 2000000\r\nExpect: 100-continue\r\n\r\n`;

describe("a client that sends Expect: 100-continue and then nothing", () => {
  const cases: [string, number][] = [
    ["static.test", 200],
    ["empty.test", 204],
    ["redirect.test", 302],
    ["spin.test", 504],
    ["silent.test", 504],
  ];
  for (const [host, status] of cases) {
    test(`${host}: a final answer, no 100 Continue, Connection: close, then the close`, async () => {
      const client = await connect(mantrid.port);
      client.send(UPLOAD_HEAD(host));
      const received = await client.closed;
      expect(received.toString("latin1")).not.toContain("100 Continue");
      const all = parseResponses(received);
      expect(all.map((r) => r.status)).toEqual([status]);
      expect(all[0]!.headers.connection).toBe("close");
    });
  }

  test("three such uploads leave room for a fourth client with max_connections = 3", async () => {
    const uploads = await Promise.all(
      ["static.test", "empty.test", "silent.test"].map(async (host) => {
        const client = await connect(mantrid.port);
        client.send(UPLOAD_HEAD(host));
        return client;
      }),
    );
    await Promise.all(uploads.map((client) => client.closed));
    await allClosed();
    const fourth = await connect(mantrid.port);
    fourth.send("GET / HTTP/1.1\r\nHost: static.test\r\nConnection: close\r\n\r\n");
    expect(parseResponses(await fourth.closed).map((r) => r.status)).toEqual([200]);
  });
});

describe("abusive clients", () => {
  test("a body that stalls after 3 of 1000 bytes, to a static rule: answered, then closed", async () => {
    const client = await connect(mantrid.port);
    client.send("POST / HTTP/1.1\r\nHost: static.test\r\nContent-Length: 1000\r\n\r\nabc");
    const all = parseResponses(await client.closed);
    expect(all.map((r) => r.status)).toEqual([200]);
  });

  test("a body that stalls, to a proxy rule after its 504: closed", async () => {
    const client = await connect(mantrid.port);
    client.send("POST / HTTP/1.1\r\nHost: silent.test\r\nContent-Length: 1000\r\n\r\nabc");
    const all = parseResponses(await client.closed);
    expect(all.map((r) => r.status)).toEqual([504]);
  });

  test("a body that stalls, to a proxy rule: 408 within body_timeout, the backend connection closed", async () => {
    // Here the backend may wait longer than the client's body may stall.
    const patient = await startMantrid({ bodyTimeout: 0.3, backendTimeout: 30 });
    await patient.set("recorded.test", [
      "proxy",
      { backends: [`127.0.0.1:${recorder.port}`] },
      false,
    ]);
    const mark = recorder.mark();
    const client = await connect(patient.port);
    client.send("POST / HTTP/1.1\r\nHost: recorded.test\r\nContent-Length: 1000\r\n\r\nabc");
    const all = parseResponses(await client.closed);
    expect(all.map((r) => r.status)).toEqual([408]);
    const [request] = recorder.since(mark);
    await recorder.until(() => request!.connection.closed);
    expect(request!.complete).toBe(false);
    await waitFor(() => patient.running.openConnections() === 0, "the connection to close");
    await patient.stop();
  });

  test("half a chunked body, then FIN: the request is dropped and the backend connection closed", async () => {
    const mark = recorder.mark();
    const client = await connect(mantrid.port);
    client.send(
      "POST / HTTP/1.1\r\nHost: recorded.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
    );
    await recorder.until(() => recorder.since(mark).length === 1);
    client.end();
    expect(parseResponses(await client.closed)).toEqual([]);
    const [request] = recorder.since(mark);
    await recorder.until(() => request!.connection.closed);
    expect(request!.complete).toBe(false);
  });

  test("FIN in the middle of a head: closed, nothing answered", async () => {
    const client = await connect(mantrid.port);
    client.send("GET / HTTP/1.1\r\nHost: stat");
    client.end();
    expect((await client.closed).length).toBe(0);
  });

  test("FIN mid-body to a proxy rule: the backend sees its connection closed, never reused", async () => {
    const mark = recorder.mark();
    const client = await connect(mantrid.port);
    client.send("PUT /x HTTP/1.1\r\nHost: recorded.test\r\nContent-Length: 100\r\n\r\n0123456789");
    await recorder.until(() => recorder.since(mark)[0]?.body.length === 10);
    client.end();
    await client.closed;
    const [first] = recorder.since(mark);
    await recorder.until(() => first!.connection.closed);
    // The next request needs a new backend connection: the broken one was not pooled.
    const next = await connect(mantrid.port);
    next.send("GET /next HTTP/1.1\r\nHost: recorded.test\r\nConnection: close\r\n\r\n");
    expect(parseResponses(await next.closed).map((r) => r.status)).toEqual([200]);
    const [, second] = recorder.since(mark);
    expect(second!.line).toBe("GET /next HTTP/1.1");
    expect(second!.connection).not.toBe(first!.connection);
  });

  test("a client that stops reading a 100 MB response is cut off after send_timeout", async () => {
    const before = hugeClosed.length;
    const client = await connect(mantrid.port);
    client.socket.pause();
    client.send("GET / HTTP/1.1\r\nHost: huge.test\r\n\r\n");
    await client.closed;
    // The backend connection goes too, not back to the pool with 100 MB unread.
    await waitFor(() => hugeClosed.length > before, "the backend connection");
    await hugeClosed[before];
  });

  test("after an early answer, a small rest of the body is dropped and the next request served", async () => {
    const client = await connect(mantrid.port);
    client.send(
      "POST / HTTP/1.1\r\nHost: empty.test\r\nContent-Length: 10\r\n\r\n01234" +
        "56789GET / HTTP/1.1\r\nHost: static.test\r\nConnection: close\r\n\r\n",
    );
    const all = parseResponses(await client.closed);
    expect(all.map((r) => r.status)).toEqual([204, 200]);
    expect(all[0]!.headers.connection).toBe("keep-alive");
  });

  test("after an early answer to a large body, the connection closes and pipelined requests go unanswered", async () => {
    const client = await connect(mantrid.port);
    client.send("POST / HTTP/1.1\r\nHost: empty.test\r\nContent-Length: 1000000\r\n\r\n0123456789");
    const [answer] = await responses(client, 1);
    expect(answer!.headers.connection).toBe("close");
    client.send("GET / HTTP/1.1\r\nHost: static.test\r\n\r\n");
    expect(parseResponses(await client.closed).map((r) => r.status)).toEqual([204]);
  });

  test("a chunked body past 64 KiB after an early answer: the connection closes", async () => {
    const client = await connect(mantrid.port);
    client.send("POST / HTTP/1.1\r\nHost: empty.test\r\nTransfer-Encoding: chunked\r\n\r\n");
    await responses(client, 1);
    const chunk = `10000\r\n${"x".repeat(0x10000)}\r\n`;
    // 128 KiB: the loopback socket buffer takes it in one write.
    client.send(chunk + chunk);
    expect(parseResponses(await client.closed).map((r) => r.status)).toEqual([204]);
  });
});
