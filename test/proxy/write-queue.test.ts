/** WriteQueue: over a real TCP connection whose reader stops reading, and over a fake socket for stalls and endings. */
import { expect, test } from "bun:test";
import { createHash } from "node:crypto";
import type { Socket } from "bun";
import { clock } from "../../src/proxy/clock.ts";
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

/** A socket that takes at most `room` bytes per write and records how it was closed. */
function fakeSocket() {
  const socket = {
    room: 0,
    taken: 0,
    ended: 0,
    shut: 0,
    write(bytes: Uint8Array) {
      const n = Math.min(bytes.length, socket.room);
      socket.room -= n;
      socket.taken += n;
      return n;
    },
    end() {
      socket.ended++;
    },
    shutdown() {
      socket.shut++;
    },
  };
  return socket;
}

const asSocket = (fake: ReturnType<typeof fakeSocket>) => fake as unknown as Socket<unknown>;

test("stalledSince: 0 while nothing waits; the time of the last progress while something does", () => {
  const socket = fakeSocket();
  const queue = new WriteQueue(asSocket(socket));
  clock.now = 1000;
  expect(queue.write(new Uint8Array(10))).toBe(false);
  expect(queue.stalledSince).toBe(1000);
  clock.now = 5000;
  // No progress: the stall still dates from the first write.
  expect(queue.flush()).toBe(false);
  expect(queue.stalledSince).toBe(1000);
  socket.room = 4;
  clock.now = 6000;
  expect(queue.flush()).toBe(false);
  expect(queue.stalledSince).toBe(6000);
  socket.room = 100;
  expect(queue.flush()).toBe(true);
  expect(queue.stalledSince).toBe(0);
  expect(socket.taken).toBe(10);
});

test("shutdown half-closes once the queue is written, and only once", () => {
  const socket = fakeSocket();
  const queue = new WriteQueue(asSocket(socket));
  queue.write(new Uint8Array(3));
  queue.shutdown();
  expect(queue.closing).toBe(true);
  expect(socket.shut).toBe(0);
  socket.room = 3;
  queue.flush();
  queue.flush();
  expect(socket.shut).toBe(1);
  expect(socket.ended).toBe(0);
  // Nothing more is written after it.
  expect(queue.write(new Uint8Array(1))).toBe(false);
  expect(socket.taken).toBe(3);
});

test("end after shutdown closes: at once when nothing waits", () => {
  const socket = fakeSocket();
  const queue = new WriteQueue(asSocket(socket));
  queue.shutdown();
  expect(socket.shut).toBe(1);
  queue.end();
  expect(socket.ended).toBe(1);
});

test("end with bytes waiting closes after they are written", () => {
  const socket = fakeSocket();
  const queue = new WriteQueue(asSocket(socket));
  queue.write(new Uint8Array(5));
  queue.end();
  expect(socket.ended).toBe(0);
  socket.room = 5;
  queue.flush();
  expect(socket.ended).toBe(1);
});
