/**
 * Lingering close: after an error answer Mantrid shuts its write side and goes
 * on reading what the client still sends, so a client in the middle of a large
 * send finishes it and reads the answer instead of meeting a reset.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect as netConnect } from "node:net";
import { startMantrid, type TestMantrid } from "../support/mantrid.ts";
import { waitFor } from "../support/wait.ts";
import { connect, parseResponses } from "../support/wire.ts";

let mantrid: TestMantrid;
beforeAll(async () => {
  mantrid = await startMantrid();
  await mantrid.set("page.test", ["static", { type: "test" }, false]);
});
afterAll(() => mantrid.stop());

interface Outcome {
  /** An error the client met while sending or reading (EPIPE, ECONNRESET), or null. */
  error: string | null;
  received: Buffer;
}

/** Sends `first`, then `total` bytes of `filler` in 32 KiB writes, each after the last was taken; then reads to the end. */
function sendInPieces(first: string, filler: number, total: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let error: string | null = null;
    const socket = netConnect(mantrid.port, "127.0.0.1");
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", (e: NodeJS.ErrnoException) => {
      error ??= e.code ?? e.message;
    });
    socket.on("close", () => resolve({ error, received: Buffer.concat(chunks) }));
    const piece = Buffer.alloc(32 * 1024, filler);
    let sent = 0;
    const next = () => {
      if (error !== null) return;
      if (sent >= total) {
        socket.end();
        return;
      }
      sent += piece.length;
      socket.write(piece, (e) => (e ? undefined : next()));
    };
    socket.once("connect", () => socket.write(first, () => next()));
  });
}

test("a 1 MB head sent in 32 KiB pieces: the send completes and the 431 is read, 50 times of 50", async () => {
  for (let run = 0; run < 50; run++) {
    const outcome = await sendInPieces(
      "GET / HTTP/1.1\r\nHost: page.test\r\nX-Big: ",
      0x61,
      1 << 20,
    );
    expect(outcome.error).toBeNull();
    expect(parseResponses(outcome.received).map((r) => r.status)).toEqual([431]);
  }
});

test("a bad request line followed by a 1 MB body: the send completes and the 400 is read, 50 times of 50", async () => {
  for (let run = 0; run < 50; run++) {
    const outcome = await sendInPieces(
      "GET /a b c HTTP/1.1\r\nHost: page.test\r\nContent-Length: 1048576\r\n\r\n",
      0x62,
      1 << 20,
    );
    expect(outcome.error).toBeNull();
    expect(parseResponses(outcome.received).map((r) => r.status)).toEqual([400]);
  }
});

test("a client that keeps sending after the answer is closed once linger_timeout has passed", async () => {
  const lingering = await startMantrid({ lingerTimeout: 0.2 });
  const client = await connect(lingering.port);
  client.send("BAD\r\n\r\n");
  // The client never stops sending, and never closes.
  const trickle = setInterval(() => client.send("x"), 20);
  const received = await client.closed;
  clearInterval(trickle);
  expect(parseResponses(received).map((r) => r.status)).toEqual([400]);
  await waitFor(() => lingering.running.openConnections() === 0, "the connection to be gone");
  await lingering.stop();
});
