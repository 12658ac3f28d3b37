/** The request transaction: one listener, one deadline, counters, forwarding lines. */
import { describe, expect, test } from "bun:test";
import { DEFAULT_LIMITS } from "../../src/http/limits.ts";
import { parseRequestHead } from "../../src/http/request-head.ts";
import type { ClientSide } from "../../src/proxy/client-side.ts";
import { clock } from "../../src/proxy/clock.ts";
import type { ExchangeListener } from "../../src/proxy/exchange.ts";
import { Transaction } from "../../src/proxy/transaction.ts";
import { StatsBook } from "../../src/stats/host-stats.ts";

/** A client side that records what the transaction passed on. */
function fakeClient(overrides: Partial<ClientSide> = {}): ClientSide & { calls: string[] } {
  const calls: string[] = [];
  const record =
    (name: string) =>
    (..._args: unknown[]): undefined => {
      calls.push(name);
      return undefined;
    };
  return {
    calls,
    observer: null,
    internal: false,
    clientAddress: "192.0.2.1",
    keepAlive: true,
    closed: false,
    bodyDone: true,
    respond: record("respond"),
    hold: record("hold"),
    release: record("release"),
    streamBody: record("streamBody"),
    sinkResumed: record("sinkResumed"),
    takeWholeBody: () => null,
    send: () => true,
    finish: record("finish"),
    abort: record("abort"),
    end: record("end"),
    upgrade: record("upgrade"),
    resumeTunnel: record("resumeTunnel"),
    ...overrides,
  };
}

function started(request: string, client = fakeClient()): Transaction {
  const transaction = new Transaction();
  const bytes = Buffer.from(request, "latin1");
  parseRequestHead(bytes, 0, bytes.length, transaction.head, DEFAULT_LIMITS);
  transaction.begin(client, bytes, "a.test", "http");
  return transaction;
}

function countingListener(): ExchangeListener & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    abandoned: () => events.push("abandoned"),
    writable: () => events.push("writable"),
    clientEnded: () => events.push("clientEnded"),
  };
}

describe("the listener", () => {
  test("hears the client's events until the request is abandoned, and abandonment once", () => {
    const transaction = started("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n");
    const listener = countingListener();
    transaction.listen(listener);
    transaction.clientWritable();
    transaction.clientEnded();
    transaction.abandon();
    transaction.abandon();
    transaction.clientWritable();
    expect(listener.events).toEqual(["writable", "clientEnded", "abandoned"]);
  });

  for (const ending of ["respond", "finish", "abort"] as const) {
    test(`is forgotten on ${ending}: a later abandonment reaches no one`, () => {
      const client = fakeClient();
      const transaction = started("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n", client);
      const listener = countingListener();
      transaction.listen(listener);
      if (ending === "respond") transaction.respond(new Uint8Array());
      else if (ending === "finish") transaction.finish(true);
      else transaction.abort();
      transaction.abandon();
      expect(listener.events).toEqual([]);
      expect(client.calls).toEqual([ending]);
    });
  }

  test("a second listen replaces the first (a spinning request handed to its new action)", () => {
    const transaction = started("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n");
    const first = countingListener();
    const second = countingListener();
    transaction.listen(first);
    transaction.listen(second);
    transaction.abandon();
    expect(first.events).toEqual([]);
    expect(second.events).toEqual(["abandoned"]);
  });
});

describe("the deadline", () => {
  test("fires once when its time has come, not before", () => {
    const transaction = started("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n");
    let fired = 0;
    transaction.setDeadline(2, () => fired++);
    const due = transaction.deadlineAt;
    expect(due).toBe(clock.now + 2000);
    transaction.expire(due - 1);
    expect(fired).toBe(0);
    transaction.expire(due);
    transaction.expire(due + 1000);
    expect(fired).toBe(1);
    expect(transaction.deadlineAt).toBe(0);
  });

  test("is cleared by abandonment and by reset", () => {
    const transaction = started("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n");
    let fired = 0;
    transaction.setDeadline(1, () => fired++);
    transaction.abandon();
    transaction.setDeadline(1, () => fired++);
    transaction.reset();
    transaction.expire(Number.MAX_SAFE_INTEGER);
    expect(fired).toBe(0);
  });
});

test("countEnd moves a request out of the open count once, completed or not", () => {
  const book = new StatsBook();
  const stats = book.of("a.test");
  const transaction = started("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n");
  stats.open_requests = 1;
  transaction.stats = stats;
  transaction.countEnd(true);
  transaction.countEnd(true);
  expect(stats.open_requests).toBe(0);
  expect(stats.completed_requests).toBe(1);
  // The next request on the connection.
  transaction.begin(fakeClient(), transaction.headBytes, "a.test", "http");
  stats.open_requests = 1;
  transaction.stats = stats;
  transaction.countEnd(false);
  expect(stats.open_requests).toBe(0);
  expect(stats.completed_requests).toBe(1);
});

test("the observer hears each request once, with its status, bytes and time", () => {
  const heard: { status: number; bytesIn: number; bytesOut: number; ms: number; target: string }[] =
    [];
  const client = fakeClient({
    observer: {
      requestEnded: (request) =>
        heard.push({
          status: request.status,
          bytesIn: request.bytesIn,
          bytesOut: request.bytesOut,
          ms: request.endedAt - request.startedAt,
          target: request.target(),
        }),
    },
  });
  const transaction = started("GET /page?q=1 HTTP/1.1\r\nHost: a.test\r\n\r\n", client);
  transaction.received(40);
  transaction.respond(Buffer.from("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"));
  transaction.sent(45);
  transaction.countEnd(true);
  transaction.countEnd(true);
  expect(heard).toHaveLength(1);
  expect(heard[0]).toMatchObject({ status: 404, bytesIn: 40, bytesOut: 45, target: "/page?q=1" });
  expect(heard[0]!.ms).toBeGreaterThanOrEqual(0);
});

test("a transaction with no request begun has nothing to count out", () => {
  // It has no client side yet: counting it out would have nothing to report to.
  expect(() => new Transaction().countEnd(false)).not.toThrow();
});

describe("forwarding lines", () => {
  test("on a bind listener: the client's address, and http", () => {
    const transaction = started(
      "GET / HTTP/1.1\r\nHost: a.test\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n",
    );
    expect(transaction.forwardingLines()).toBe(
      "X-Forwarded-For: 192.0.2.1\r\nX-Forwarded-Proto: http\r\n",
    );
  });

  test("on a bind_internal listener: the client's X-Forwarded-For is extended", () => {
    const transaction = started(
      "GET / HTTP/1.1\r\nHost: a.test\r\nX-Forwarded-For: 198.51.100.9\r\n\r\n",
      fakeClient({ internal: true }),
    );
    expect(transaction.forwardingLines()).toBe("X-Forwarded-For: 198.51.100.9, 192.0.2.1\r\n");
  });

  test("kept per client address: a transaction that moves to another client says the new one", () => {
    const transaction = started("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n");
    expect(transaction.forwardingLines()).toContain("192.0.2.1");
    const bytes = transaction.headBytes;
    transaction.begin(fakeClient({ clientAddress: "192.0.2.2" }), bytes, "a.test", "http");
    expect(transaction.forwardingLines()).toContain("192.0.2.2");
  });

  test("an upgrade says so to the backend; an HTTP/1.0 request asks it to keep the connection", () => {
    const upgrade = started(
      "GET / HTTP/1.1\r\nHost: a.test\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
    );
    expect(upgrade.forwardingLines()).toEndWith("Connection: upgrade\r\n");
    const old = started("GET / HTTP/1.0\r\nHost: a.test\r\n\r\n");
    expect(old.forwardingLines()).toEndWith("Connection: keep-alive\r\n");
  });
});
