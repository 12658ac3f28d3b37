/**
 * An "etcd" that accepts connections and never answers, and one that
 * answers garbage: start-up, writes and /health all end by their deadlines.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TCPSocketListener } from "bun";
import { startMantrid, type TestMantrid } from "../../support/mantrid.ts";
import { call, empty, freshPrefix, healthOf } from "./instances.ts";

let silent: TCPSocketListener<undefined>;
let garbage: TCPSocketListener<undefined>;

beforeAll(() => {
  silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  garbage = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(socket) {
        socket.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
      },
    },
  });
});

afterAll(() => {
  silent.stop(true);
  garbage.stop(true);
});

async function startOn(port: number): Promise<TestMantrid> {
  return startMantrid({
    store: "etcd",
    etcdEndpoints: [`http://127.0.0.1:${port}`],
    etcdPrefix: freshPrefix(),
  });
}

describe("etcd that does not answer", () => {
  for (const [name, server] of [
    ["silent", () => silent],
    ["answering garbage", () => garbage],
  ] as const) {
    test(`${name}: the server starts, refuses writes in time, and says unreachable`, async () => {
      // The first read has a deadline: start-up does not wait for etcd forever.
      const mantrid = await startOn(server().port);
      try {
        expect(await healthOf(mantrid)).toMatchObject({ store: "etcd", state: "unreachable" });
        const put = await call(mantrid, "PUT", "/hostname/a.test/", empty(201));
        expect(put.status).toBe(503);
        expect((put.body as { error: string }).error).toMatch(/^etcd /);
        expect((await call(mantrid, "GET", "/hostname/")).body).toEqual({});
      } finally {
        await mantrid.stop();
      }
    }, 60_000);
  }
});
