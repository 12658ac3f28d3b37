/** The backend pool over real sockets: reuse, the idle cap per backend, the idle sweep. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TCPSocketListener } from "bun";
import { BackendConnection } from "../../src/backend/connection.ts";
import { addressOf } from "../../src/backend/members.ts";
import { BackendPool } from "../../src/backend/pool.ts";

let server: TCPSocketListener<undefined>;
let closedByPool = 0;
const closes: (() => void)[] = [];

beforeAll(() => {
  server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data() {},
      close() {
        closedByPool++;
        closes.shift()?.();
      },
    },
  });
});
afterAll(() => server.stop(true));

async function open(pool: BackendPool): Promise<BackendConnection> {
  const result = await pool.connect(addressOf(["127.0.0.1", server.port]));
  if (!(result instanceof BackendConnection)) throw new Error(result.error);
  return result;
}

test("idle connections beyond the cap are closed; the warmest is reused first", async () => {
  const pool = new BackendPool({ idleTimeout: 60, maxIdlePerBackend: 2 });
  const key = `127.0.0.1:${server.port}`;
  const [a, b, c] = [await open(pool), await open(pool), await open(pool)];
  const closed = new Promise<void>((resolve) => closes.push(resolve));
  pool.give(a!);
  pool.give(b!);
  pool.give(c!);
  await closed;
  expect(pool.idleCount).toBe(2);
  expect(pool.take(key)).toBe(b!);
  expect(pool.take(key)).toBe(a!);
  expect(pool.take(key)).toBeNull();
  a!.close();
  b!.close();
});

test("the sweep closes connections idle past idle_timeout", async () => {
  const pool = new BackendPool({ idleTimeout: 0.05, maxIdlePerBackend: 8 });
  const connection = await open(pool);
  pool.give(connection);
  const before = closedByPool;
  const closed = new Promise<void>((resolve) => closes.push(resolve));
  pool.sweep(performance.now() + 1000);
  await closed;
  expect(closedByPool).toBe(before + 1);
  expect(pool.idleCount).toBe(0);
});

test("closeIdle closes one backend's idle connections and leaves the others", async () => {
  const pool = new BackendPool({ idleTimeout: 60, maxIdlePerBackend: 8 });
  const key = `127.0.0.1:${server.port}`;
  const [a, b] = [await open(pool), await open(pool)];
  const other = await pool.connect({
    ...addressOf(["127.0.0.1", server.port]),
    poolKey: "other:1",
  });
  if (!(other instanceof BackendConnection)) throw new Error(other.error);
  pool.give(a!);
  pool.give(b!);
  pool.give(other);
  const closed = [0, 1].map(() => new Promise<void>((resolve) => closes.push(resolve)));
  expect(pool.closeIdle(key)).toBe(2);
  await Promise.all(closed);
  expect(pool.take(key)).toBeNull();
  expect(pool.idleCount).toBe(1);
  expect(pool.closeIdle(key)).toBe(0);
  other.close();
});
