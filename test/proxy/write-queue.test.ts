/** WriteQueue over a real TCP connection whose reader stops reading. */
import { expect, test } from "bun:test";
import { createHash } from "node:crypto";
import type { Socket } from "bun";
import { WriteQueue } from "../../src/proxy/write-queue.ts";

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

test("transient bytes that must wait are copied: reusing them at once changes nothing sent", async () => {
  let reader!: Socket<undefined>;
  let readerOpen!: () => void;
  const opened = new Promise<void>((resolve) => {
    readerOpen = resolve;
  });
  const received: Buffer[] = [];
  let receivedBytes = 0;
  let onReceived = () => {};
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        reader = socket;
        socket.pause();
        readerOpen();
      },
      data(_socket, chunk) {
        received.push(Buffer.from(chunk));
        receivedBytes += chunk.length;
        onReceived();
      },
    },
  });
  let queue!: WriteQueue;
  const writer = await Bun.connect({
    hostname: "127.0.0.1",
    port: server.port,
    socket: {
      drain: () => void queue.flush(),
      data() {},
    },
  });
  queue = new WriteQueue(writer);
  await opened;

  // One buffer, refilled with a new pattern before each write, as a shared
  // scratch buffer is; writes go on until the reader's side is full, and a few
  // more after that, so both the partly written one and the queued ones are copies.
  const scratch = new Uint8Array(64 * 1024);
  const sent = createHash("sha256");
  let total = 0;
  let waiting = 0;
  for (let round = 0; waiting < 3; round++) {
    expect(round).toBeLessThan(10_000);
    scratch.fill(round % 251);
    sent.update(scratch);
    total += scratch.length;
    if (!queue.write(scratch, true)) waiting++;
  }
  scratch.fill(255);
  expect(queue.empty).toBe(false);

  const all = new Promise<void>((resolve) => {
    onReceived = () => {
      if (receivedBytes >= total) resolve();
    };
  });
  reader.resume();
  await all;
  expect(receivedBytes).toBe(total);
  expect(sha(Buffer.concat(received))).toBe(sent.digest("hex"));
  writer.end();
  server.stop(true);
});
