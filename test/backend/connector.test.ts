/** The connector: attempts, rounds, tiers, queueing and holding, against real sockets. */
import { afterAll, describe, expect, test } from "bun:test";
import type { BackendConnection } from "../../src/backend/connection.ts";
import {
  Connector,
  type ConnectPlan,
  FULL,
  REFUSED,
  TIMED_OUT,
} from "../../src/backend/connector.ts";
import { addressOf } from "../../src/backend/members.ts";
import { BackendPool } from "../../src/backend/pool.ts";
import { BackendStates } from "../../src/backend/state.ts";
import { BackendWaits } from "../../src/backend/waits.ts";
import type { Member, Policy } from "../../src/balance/policy.ts";
import { freePort } from "../support/backend.ts";
import { FakeExchange } from "../support/fake-exchange.ts";
import { waitFor } from "../support/wait.ts";

const pool = new BackendPool({ idleTimeout: 60, maxIdlePerBackend: 8 });
const states = new BackendStates();
const waits = new BackendWaits(states);
const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
afterAll(() => {
  pool.closeAll();
  listener.stop(true);
});

function member(port: number, extra: Partial<Member> = {}): Member {
  const key = `127.0.0.1:${port}`;
  return {
    address: addressOf(["127.0.0.1", port]),
    weight: 1,
    backup: false,
    maxConns: 0,
    state: states.get(key),
    ...extra,
  };
}

/** The first eligible of `count` members in list order, remembering each pick. */
function inOrder(count: number): Policy & { picks: number[] } {
  const picks: number[] = [];
  return {
    name: "in-order",
    picks,
    pick(_request, eligible) {
      for (let i = 0; i < count; i++) {
        if (eligible(i)) {
          picks.push(i);
          return i;
        }
      }
      return -1;
    },
  };
}

interface Run {
  exchange: FakeExchange;
  outcome: Promise<BackendConnection | number>;
  policy: ReturnType<typeof inOrder>;
  connector: Connector;
}

function run(members: Member[], plan: Partial<ConnectPlan> = {}): Run {
  const exchange = new FakeExchange("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n");
  const outcome = Promise.withResolvers<BackendConnection | number>();
  const connector = new Connector(
    { pool, states, waits, connectTimeout: 5 },
    {
      connected: (connection) => outcome.resolve(connection),
      failed: (status) => outcome.resolve(status),
    },
  );
  const policy = inOrder(members.length);
  connector.start(exchange, planOf(members, { policy, ...plan }));
  return { exchange, outcome: outcome.promise, policy, connector };
}

/** A plan over `members` with one attempt, no delay, `fail` when all are down. */
function planOf(members: Member[], plan: Partial<ConnectPlan> = {}): ConnectPlan {
  return {
    members,
    policy: inOrder(members.length),
    attempts: 1,
    delay: 0,
    queueTimeout: 10,
    whenAllDown: "fail",
    spinTimeout: 120,
    hashKey: () => "",
    passive: null,
    hasBackups: members.some((m) => m.backup),
    ...plan,
  };
}

/** Closes the idle connections to the listener, so the next request must connect. */
function emptyPool(): void {
  for (;;) {
    const idle = pool.take(`127.0.0.1:${listener.port}`);
    if (idle === null) return;
    idle.close();
  }
}

describe("attempts and rounds", () => {
  test("a failed attempt goes on at once to a member not yet tried", async () => {
    const dead = await freePort();
    emptyPool();
    const { outcome, policy, exchange } = run([member(dead), member(listener.port)], {
      attempts: 2,
      delay: 30,
    });
    const connection = (await outcome) as BackendConnection;
    expect(connection.key).toBe(`127.0.0.1:${listener.port}`);
    expect(policy.picks).toEqual([0, 1]);
    // No round's delay between two different members.
    expect(exchange.deadline).toBeNull();
    pool.give(connection);
  });

  test("every member tried: the next round waits `delay`; then 502 after `attempts`", async () => {
    const [a, b] = [await freePort(), await freePort()];
    const { outcome, policy, exchange } = run([member(a), member(b)], { attempts: 3, delay: 1.5 });
    await waitFor(() => exchange.deadline?.seconds === 1.5, "the round's delay");
    expect(policy.picks).toEqual([0, 1]);
    exchange.fireDeadline();
    expect(await outcome).toBe(REFUSED);
    expect(policy.picks).toEqual([0, 1, 0]);
  });

  test("a connect still pending when connect_timeout passes: 504 on the last attempt", async () => {
    emptyPool();
    const { exchange, outcome } = run([member(listener.port)]);
    expect(exchange.deadline?.seconds).toBe(5);
    exchange.fireDeadline();
    expect(await outcome).toBe(TIMED_OUT);
    // The connection that opens afterwards is not lost: it waits in the pool.
    await waitFor(() => pool.take(`127.0.0.1:${listener.port}`) !== null, "the late connection");
  });

  test("a pooled connection is taken; retryFresh opens a new one to the same member", async () => {
    emptyPool();
    const opened = (await run([member(listener.port)]).outcome) as BackendConnection;
    pool.give(opened);
    const results: BackendConnection[] = [];
    const connector = new Connector(
      { pool, states, waits, connectTimeout: 5 },
      { connected: (c) => results.push(c), failed: () => {} },
    );
    const exchange = new FakeExchange("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n");
    connector.start(exchange, planOf([member(listener.port)]));
    expect(results).toEqual([opened]);
    expect(exchange.deadline).toBeNull();
    connector.retryFresh();
    await waitFor(() => results.length === 2, "the fresh connection");
    expect(results[1]).not.toBe(opened);
    opened.close();
    results[1]!.close();
  });
});

describe("tiers and health", () => {
  test("backups only while no primary is usable", async () => {
    emptyPool();
    const down = member(await freePort());
    states.setHealth(down.state, "down", "test");
    const backup = member(listener.port, { backup: true });
    const { outcome, policy } = run([down, backup]);
    expect(((await outcome) as BackendConnection).key).toBe(backup.address.key);
    expect(policy.picks).toEqual([1]);
  });

  test("none usable, when_all_down fail: 502 at once, nothing tried", async () => {
    const down = member(await freePort());
    states.setHealth(down.state, "down", "test");
    const { outcome, policy } = run([down]);
    expect(await outcome).toBe(REFUSED);
    expect(policy.picks).toEqual([]);
  });

  test("none usable, when_all_down spin: held until one comes up", async () => {
    emptyPool();
    const later = member(listener.port);
    states.setHealth(later.state, "down", "test");
    const { outcome, exchange } = run([later], { whenAllDown: "spin", spinTimeout: 60 });
    expect(exchange.held).toBe(true);
    expect(exchange.deadline?.seconds).toBe(60);
    states.setHealth(later.state, "up", "test");
    expect(((await outcome) as BackendConnection).key).toBe(later.address.key);
    expect(exchange.held).toBe(false);
  });

  test("held past spin_timeout: 504", async () => {
    const down = member(await freePort());
    states.setHealth(down.state, "down", "test");
    const { outcome, exchange } = run([down], { whenAllDown: "spin", spinTimeout: 60 });
    exchange.fireDeadline();
    expect(await outcome).toBe(TIMED_OUT);
    expect(waits.size).toBe(0);
  });

  test("under spin, a request whose attempts all fail is held too, not failed", async () => {
    const dead = member(await freePort());
    const { exchange } = run([dead], { whenAllDown: "spin", spinTimeout: 60 });
    await waitFor(() => exchange.held, "the hold");
    expect(exchange.deadline?.seconds).toBeCloseTo(60, 0);
  });

  test("passive ejection: connect failures take the member down", async () => {
    const dead = member(await freePort());
    await run([dead], { passive: { failures: 2, eject: 60 } }).outcome;
    expect(dead.state.health).toBe("up");
    await run([dead], { passive: { failures: 2, eject: 60 } }).outcome;
    expect(dead.state.health).toBe("down");
    expect(dead.state.failures).toBe(2);
  });
});

describe("max_conns", () => {
  test("a full member queues the request; a freed slot lets it go", async () => {
    emptyPool();
    const full = member(listener.port, { maxConns: 1 });
    full.state.active = 1;
    const { outcome, exchange } = run([full], { queueTimeout: 30 });
    expect(exchange.held).toBe(true);
    expect(exchange.deadline?.seconds).toBe(30);
    full.state.active = 0;
    waits.slotFreed();
    expect(((await outcome) as BackendConnection).key).toBe(full.address.key);
  });

  test("still full at queue_timeout: 503", async () => {
    const full = member(await freePort(), { maxConns: 2 });
    full.state.active = 2;
    const { outcome, exchange } = run([full], { queueTimeout: 30 });
    exchange.fireDeadline();
    expect(await outcome).toBe(FULL);
    full.state.active = 0;
  });
});
