/** Backpressure: a slow reader of a 100 MB response does not make Mantrid hold the body. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { httpBackend, type TestBackend } from "../support/backend.ts";
import { type RunningBinary, rssOf, startBinary } from "../support/binary.ts";

const SIZE = 100 * 1024 * 1024;
let server: RunningBinary;
let backend: TestBackend;

beforeAll(async () => {
  server = await startBinary();
  const block = Buffer.alloc(256 * 1024, 7);
  backend = await httpBackend((_request, response) => {
    response.writeHead(200, { "Content-Length": SIZE });
    let sent = 0;
    const pump = () => {
      while (sent < SIZE) {
        sent += block.length;
        if (!response.write(block)) return void response.once("drain", pump);
      }
      response.end();
    };
    pump();
  });
  const set = await server.client(
    "set",
    "big.test",
    "proxy",
    "false",
    `backends=127.0.0.1:${backend.port}`,
  );
  expect(set.code).toBe(0);
});
afterAll(async () => {
  await server.stop("SIGKILL");
  await backend.close();
});

test("RSS stays bounded while a slow client reads 100 MB", async () => {
  const pid = server.process.pid;
  const baseline = await rssOf(pid);
  let peak = baseline;
  let received = 0;
  let nextPause = 1024 * 1024;
  const done = Promise.withResolvers<void>();
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port: server.port,
    socket: {
      data(s, data) {
        received += data.length;
        if (received >= SIZE) return done.resolve();
        if (received >= nextPause) {
          // A slow reader: stop reading for a moment after every 4 MiB.
          nextPause += 4 * 1024 * 1024;
          s.pause();
          setTimeout(async () => {
            peak = Math.max(peak, await rssOf(pid));
            s.resume();
          }, 15);
        }
      },
      close: () => done.resolve(),
    },
  });
  socket.write("GET / HTTP/1.1\r\nHost: big.test\r\nConnection: close\r\n\r\n");
  await done.promise;
  socket.end();
  expect(received).toBeGreaterThanOrEqual(SIZE);
  const growth = peak - baseline;
  console.log(
    `slow reader: baseline ${(baseline / 2 ** 20).toFixed(1)} MiB, peak growth ${(growth / 2 ** 20).toFixed(1)} MiB`,
  );
  // The body is 100 MiB; a bounded pipe holds a small, fixed part of it.
  expect(growth).toBeLessThan(32 * 1024 * 1024);
}, 120_000);
