/**
 * Draining a backend through the API: what is in flight (a held request, an
 * upgraded connection) finishes, nothing new goes there, no pooled connection
 * to it is used again, and enabling it brings it back. Real Mantrid, a raw
 * backend that counts its connections and requests.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { namedBackend, type TestBackend } from "../support/backend.ts";
import { startMantrid, type TestMantrid } from "../support/mantrid.ts";
import { waitFor } from "../support/wait.ts";
import { connect, parseResponses, type RawConnection } from "../support/wire.ts";

interface Peer {
  id: number;
  buffer: string;
  upgraded: boolean;
  closed: boolean;
}

/**
 * Answers `GET /hold` only when released, switches `GET /upgrade` to a pipe
 * that echoes in upper case, and answers anything else at once with "a".
 */
function heldBackend() {
  const peers: Peer[] = [];
  const held: Socket<Peer>[] = [];
  let plain = 0;
  let waiters: { predicate: () => boolean; resolve: () => void }[] = [];
  const check = () => {
    waiters = waiters.filter((waiter) => {
      if (!waiter.predicate()) return true;
      waiter.resolve();
      return false;
    });
  };
  const listener: TCPSocketListener<Peer> = Bun.listen<Peer>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.data = { id: peers.length, buffer: "", upgraded: false, closed: false };
        peers.push(socket.data);
        check();
      },
      data(socket, chunk) {
        const peer = socket.data;
        if (peer.upgraded) {
          socket.write(chunk.toString("latin1").toUpperCase());
          return;
        }
        peer.buffer += chunk.toString("latin1");
        for (let end = peer.buffer.indexOf("\r\n\r\n"); end >= 0; ) {
          const path = peer.buffer.split(" ", 2)[1];
          peer.buffer = peer.buffer.slice(end + 4);
          end = peer.buffer.indexOf("\r\n\r\n");
          if (path === "/hold") held.push(socket);
          else if (path === "/upgrade") {
            peer.upgraded = true;
            socket.write(
              "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: shout\r\n\r\n",
            );
          } else {
            plain++;
            socket.write("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na");
          }
        }
        check();
      },
      close(socket) {
        socket.data.closed = true;
        check();
      },
    },
  });
  return {
    port: listener.port,
    peers,
    held,
    get plain() {
      return plain;
    },
    release() {
      for (const socket of held.splice(0)) {
        socket.write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nheld");
      }
    },
    until(predicate: () => boolean): Promise<void> {
      if (predicate()) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
    close: () => listener.stop(true),
  };
}

let mantrid: TestMantrid;
let a: ReturnType<typeof heldBackend>;
let b: TestBackend;
let A: string;
beforeAll(async () => {
  mantrid = await startMantrid();
  a = heldBackend();
  b = await namedBackend("b");
  A = `127.0.0.1:${a.port}`;
  const B = `127.0.0.1:${b.port}`;
  await mantrid.set("both.test", ["proxy", { backends: [A, B], policy: "round_robin" }, false]);
  await mantrid.set("a.test", ["proxy", { backends: [A] }, false]);
});
afterAll(async () => {
  await mantrid.stop();
  a.close();
  await b.close();
});

const api = (method: string, body?: unknown) =>
  fetch(`${mantrid.url}/backend/${A}/`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then((response) => response.json() as Promise<Record<string, unknown>>);

/** Which backend answered each of `count` requests to both.test. */
async function answers(count: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const response = await fetch(`http://127.0.0.1:${mantrid.port}/`, {
      headers: { Host: "both.test" },
    });
    names.push(await response.text());
  }
  return names;
}

async function shout(connection: RawConnection, text: string): Promise<string> {
  const before = connection.received().length;
  connection.send(text);
  const all = await connection.until((bytes) => bytes.length >= before + text.length);
  return all.subarray(before).toString("latin1");
}

test("a drained backend finishes what it carries, takes nothing new, and comes back when enabled", async () => {
  // An upgraded connection through A…
  const upgraded = await connect(mantrid.port);
  upgraded.send(
    "GET /upgrade HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\nUpgrade: shout\r\n\r\n",
  );
  await upgraded.until((bytes) => bytes.includes("\r\n\r\n"));
  expect(upgraded.received().toString("latin1")).toStartWith("HTTP/1.1 101");
  expect(await shout(upgraded, "before")).toBe("BEFORE");
  // …a request A holds…
  const holding = await connect(mantrid.port);
  holding.send("GET /hold HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n");
  await a.until(() => a.held.length === 1);
  // …and one answered at once, whose connection goes back to the pool.
  const plain = await fetch(`http://127.0.0.1:${mantrid.port}/`, { headers: { Host: "a.test" } });
  expect(await plain.text()).toBe("a");
  expect(a.peers.length).toBe(3);
  const [, , pooled] = a.peers;

  // The held request and the upgraded connection are what is in flight.
  expect(await api("PUT", { state: "drain" })).toEqual({ state: "draining", in_flight: 2 });
  // The idle pooled connection is closed at once.
  await a.until(() => pooled!.closed);

  const requestsBefore = a.plain;
  expect(new Set(await answers(20))).toEqual(new Set(["b"]));
  expect(a.plain).toBe(requestsBefore);
  expect(a.peers.length).toBe(3);

  // What was in flight goes on: the upgraded pipe still talks, the held request is answered.
  expect(await shout(upgraded, "after")).toBe("AFTER");
  a.release();
  const [response] = parseResponses(await holding.closed);
  expect(response!.status).toBe(200);
  expect(response!.body.toString()).toBe("held");
  // Its connection is closed, never pooled.
  await a.until(() => a.peers[1]!.closed);
  expect(await api("GET")).toMatchObject({ state: "draining", active: 1 });
  upgraded.destroy();
  await waitFor(async () => (await api("GET")).active === 0, "the upgraded connection to end");

  // Still nothing new, on no connection old or new.
  expect(new Set(await answers(10))).toEqual(new Set(["b"]));
  expect(a.peers.length).toBe(3);
  expect(a.plain).toBe(requestsBefore);

  expect(await api("PUT", { state: "enable" })).toEqual({ state: "up", in_flight: 0 });
  expect(await answers(4)).toContain("a");
  // On a new connection: the old ones are all closed.
  expect(a.peers.length).toBe(4);
});

test("a disabled backend takes nothing; a rule with no other answers 502 until it is enabled", async () => {
  expect(await api("PUT", { state: "disable" })).toEqual({ state: "disabled", in_flight: 0 });
  expect(new Set(await answers(6))).toEqual(new Set(["b"]));
  const only = await fetch(`http://127.0.0.1:${mantrid.port}/`, { headers: { Host: "a.test" } });
  expect(only.status).toBe(502);
  await only.arrayBuffer();
  expect(await api("PUT", { state: "enable" })).toEqual({ state: "up", in_flight: 0 });
  const back = await fetch(`http://127.0.0.1:${mantrid.port}/`, { headers: { Host: "a.test" } });
  expect(await back.text()).toBe("a");
});
