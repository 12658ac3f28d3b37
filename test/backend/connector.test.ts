/** The connector: attempts, delays and the connect deadline, against real sockets. */
import { afterAll, expect, test } from "bun:test";
import type { BackendAddress } from "../../src/backend/address.ts";
import type { BackendConnection } from "../../src/backend/connection.ts";
import { Connector, type ConnectPlan, REFUSED, TIMED_OUT } from "../../src/backend/connector.ts";
import { BackendPool } from "../../src/backend/pool.ts";
import type { Policy } from "../../src/balance/policy.ts";
import { freePort } from "../support/backend.ts";
import { FakeExchange } from "../support/fake-exchange.ts";
import { waitFor } from "../support/wait.ts";

const pool = new BackendPool({ idleTimeout: 60, maxIdlePerBackend: 8 });
const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
afterAll(() => {
  pool.closeAll();
  listener.stop(true);
});

const address = (port: number): BackendAddress => ({
  host: "127.0.0.1",
  port,
  key: `127.0.0.1:${port}`,
});

/** Picks the backends in turn and remembers each pick. */
function inTurn(): Policy & { picks: string[] } {
  const picks: string[] = [];
  return {
    name: "in-turn",
    picks,
    pick(backends) {
      const backend = backends[picks.length % backends.length]!;
      picks.push(backend.key);
      return backend;
    },
  };
}

function run(plan: Omit<ConnectPlan, "policy">, policy = inTurn()) {
  const exchange = new FakeExchange("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n");
  const outcome = Promise.withResolvers<BackendConnection | number>();
  const connector = new Connector(pool, 5, {
    connected: (connection) => outcome.resolve(connection),
    failed: (status) => outcome.resolve(status),
  });
  connector.start(exchange, { ...plan, policy });
  return { exchange, outcome: outcome.promise, policy, connector };
}

test("every attempt refused: 502 after exactly `attempts` picks", async () => {
  const [a, b] = [await freePort(), await freePort()];
  const { outcome, policy } = run({ backends: [address(a), address(b)], attempts: 3, delay: 0 });
  expect(await outcome).toBe(REFUSED);
  expect(policy.picks).toEqual([address(a).key, address(b).key, address(a).key]);
});

test("after a failed attempt the next waits `delay` on the request's deadline", async () => {
  const dead = await freePort();
  const { exchange, outcome, policy } = run({
    backends: [address(dead), address(listener.port)],
    attempts: 2,
    delay: 1.5,
  });
  await waitFor(() => exchange.deadline?.seconds === 1.5, "the delay");
  expect(policy.picks).toHaveLength(1);
  exchange.fireDeadline();
  const connection = (await outcome) as BackendConnection;
  expect(connection.key).toBe(address(listener.port).key);
  pool.give(connection);
});

/** Closes the idle connections to the listener, so the next request must connect. */
function emptyPool(): void {
  for (;;) {
    const idle = pool.take(address(listener.port).key);
    if (idle === null) return;
    idle.close();
  }
}

test("a connect still pending when connect_timeout passes: 504 on the last attempt", async () => {
  emptyPool();
  const { exchange, outcome } = run({ backends: [address(listener.port)], attempts: 1, delay: 0 });
  expect(exchange.deadline?.seconds).toBe(5);
  exchange.fireDeadline();
  expect(await outcome).toBe(TIMED_OUT);
  // The connection that opens afterwards is not lost: it waits in the pool.
  await waitFor(() => pool.take(address(listener.port).key) !== null, "the late connection");
});

async function openConnection(): Promise<BackendConnection> {
  return (await run({ backends: [address(listener.port)], attempts: 1, delay: 0 })
    .outcome) as BackendConnection;
}

test("an idle pooled connection is taken without connecting", async () => {
  const opened = await openConnection();
  pool.give(opened);
  const { exchange, outcome } = run({ backends: [address(listener.port)], attempts: 1, delay: 0 });
  expect(await outcome).toBe(opened);
  // No connect, so no connect deadline.
  expect(exchange.deadline).toBeNull();
  pool.give(opened);
});

test("retryFresh passes the pool by and does not count as an attempt", async () => {
  const pooled = pool.take(address(listener.port).key) ?? (await openConnection());
  const spare = await openConnection();
  pool.give(pooled);
  pool.give(spare);
  const results: BackendConnection[] = [];
  const failures: number[] = [];
  const exchange = new FakeExchange("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n");
  const connector = new Connector(pool, 5, {
    connected: (connection) => results.push(connection),
    failed: (status) => failures.push(status),
  });
  const policy = inTurn();
  connector.start(exchange, { backends: [address(listener.port)], attempts: 1, delay: 0, policy });
  expect(results).toEqual([spare]);
  // That pooled connection turned out closed: once more, on a new connection.
  connector.retryFresh();
  await waitFor(() => results.length === 2, "the fresh connection");
  expect(results[1]).not.toBe(pooled);
  expect(results[1]).not.toBe(spare);
  expect(failures).toEqual([]);
  expect(pool.take(address(listener.port).key)).toBe(pooled);
  for (const connection of [pooled, spare, results[1]!]) connection.close();
});
