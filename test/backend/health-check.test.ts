/** The active health check against real backends on 127.0.0.1: what passes, what fails, rise and fall, stop. */
import "../support/quiet.ts";
import { afterEach, expect, spyOn, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import type { BackendAddress } from "../../src/backend/address.ts";
import { type CheckSettings, HealthCheck, statusMatches } from "../../src/backend/health-check.ts";
import { checkSettings } from "../../src/backend/health-checks.ts";
import { addressOf } from "../../src/backend/members.ts";
import {
  type BackendState,
  BackendStates,
  type CheckResult,
  type Health,
} from "../../src/backend/state.ts";
import { log } from "../../src/log.ts";
import type { HealthOptions } from "../../src/rules/options.ts";
import { freePort } from "../support/backend.ts";

/** What a test backend does with one request head: answer it, or not. */
type Answer = (socket: Socket<Conn>, head: string, index: number) => void;

interface Conn {
  head: string;
  /** Counted in `inFlight` until answered (or about to be) or closed. */
  pending: boolean;
}

interface RawBackend {
  address: BackendAddress;
  /** Connections accepted so far. */
  connections: number;
  /** Connections accepted and neither answered nor closed, now and at most. */
  inFlight: number;
  maxInFlight: number;
  heads: string[];
  nextClose(): Promise<void>;
  stop(): void;
}

const listeners: TCPSocketListener<Conn>[] = [];
const checkers: HealthCheck[] = [];
afterEach(() => {
  for (const checker of checkers.splice(0)) checker.stop();
  for (const listener of listeners.splice(0)) listener.stop(true);
});

/** A backend on Bun.listen that hands each request head to `answer`. */
function rawBackend(answer: Answer): RawBackend {
  const onClose: (() => void)[] = [];
  const settle = (conn: Conn) => {
    if (!conn.pending) return;
    conn.pending = false;
    backend.inFlight--;
  };
  const listener = Bun.listen<Conn>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.data = { head: "", pending: true };
        backend.connections++;
        backend.inFlight++;
        backend.maxInFlight = Math.max(backend.maxInFlight, backend.inFlight);
      },
      data(socket, chunk) {
        const conn = socket.data;
        if (conn.head.endsWith("\r\n\r\n")) return;
        conn.head += chunk.toString("latin1");
        if (!conn.head.endsWith("\r\n\r\n")) return;
        backend.heads.push(conn.head);
        settle(conn);
        answer(socket, conn.head, backend.heads.length - 1);
      },
      close(socket) {
        settle(socket.data);
        for (const resolve of onClose.splice(0)) resolve();
      },
    },
  });
  listeners.push(listener);
  const backend: RawBackend = {
    address: addressOf(["127.0.0.1", listener.port]),
    connections: 0,
    inFlight: 0,
    maxInFlight: 0,
    heads: [],
    nextClose: () => new Promise((resolve) => onClose.push(resolve)),
    stop: () => listener.stop(true),
  };
  return backend;
}

function respond(socket: Socket<Conn>, status: number): void {
  socket.end(`HTTP/1.1 ${status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
}

const withStatus =
  (status: number): Answer =>
  (socket) =>
    respond(socket, status);

function settings(health: Omit<HealthOptions, "path"> = {}): CheckSettings {
  return checkSettings({ path: "/health", interval: 0.05, timeout: 0.2, ...health })!;
}

/** A started checker whose results are kept, with a way to await the n-th. */
function check(
  states: BackendStates,
  address: BackendAddress,
  options: CheckSettings,
): { checker: HealthCheck; results: CheckResult[]; until(count: number): Promise<void> } {
  const results: CheckResult[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const checker = new HealthCheck(states, address, options, (result) => {
    results.push(result);
    for (const waiter of waiters.filter((w) => w.count <= results.length)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  });
  checkers.push(checker);
  checker.start();
  return {
    checker,
    results,
    until: (count) =>
      count <= results.length
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ count, resolve })),
  };
}

/** The next health change of `state`. */
function nextChange(states: BackendStates, state: BackendState): Promise<Health> {
  return new Promise((resolve) => {
    const off = states.onChange((changed) => {
      if (changed !== state) return;
      off();
      resolve(changed.health);
    });
  });
}

test("a healthy backend stays up and its check records status 200", async () => {
  const backend = rawBackend(withStatus(200));
  const states = new BackendStates();
  let changes = 0;
  states.onChange(() => changes++);
  const { results, until } = check(states, backend.address, settings());
  await until(3);
  const state = states.get(backend.address.key);
  expect(state.health).toBe("up");
  expect(changes).toBe(0);
  expect(results.every((result) => result.ok && result.status === 200)).toBe(true);
  expect(state.check).toEqual({
    ok: true,
    status: 200,
    ms: expect.any(Number),
    at: expect.any(Number),
  });
  expect(state.check!.error).toBeUndefined();
});

test("a backend answering 500 goes down after `fall` checks and comes back after `rise` passes", async () => {
  let status = 500;
  const backend = rawBackend((socket) => respond(socket, status));
  const states = new BackendStates();
  const state = states.get(backend.address.key);
  const info = spyOn(log, "info");
  try {
    const down = nextChange(states, state);
    const { results } = check(states, backend.address, settings({ fall: 3, rise: 2 }));
    expect(await down).toBe("down");
    expect(results.map((result) => result.status)).toEqual([500, 500, 500]);
    expect(state.check).toMatchObject({ ok: false, status: 500, error: "status 500" });
    expect(state.usable).toBe(false);
    status = 200;
    const up = nextChange(states, state);
    expect(await up).toBe("up");
    expect(results.slice(3).map((result) => result.ok)).toEqual([true, true]);
    expect(state.usable).toBe(true);
    const lines = info.mock.calls.map(([line]) => line);
    expect(lines).toEqual([
      `backend ${backend.address.key} is down: 3 checks failed: status 500`,
      `backend ${backend.address.key} is up: 2 checks passed: status 200`,
    ]);
  } finally {
    info.mockRestore();
  }
});

test("a backend that accepts and never answers fails by timeout, and its socket is closed", async () => {
  const backend = rawBackend(() => {});
  const states = new BackendStates();
  const state = states.get(backend.address.key);
  const closed = backend.nextClose();
  const down = nextChange(states, state);
  check(states, backend.address, settings({ fall: 1, timeout: 0.1 }));
  expect(await down).toBe("down");
  expect(state.check).toMatchObject({ ok: false, status: 0, error: "timed out after 0.1 s" });
  await closed;
});

test("a backend that closes in the middle of its status line fails", async () => {
  const backend = rawBackend((socket) => socket.end("HTTP/1.1 20"));
  const states = new BackendStates();
  const { results, until } = check(states, backend.address, settings());
  await until(1);
  expect(results[0]).toMatchObject({
    ok: false,
    status: 0,
    error: "closed before the status line",
  });
});

test("a status line that is not HTTP/1.x fails", async () => {
  const backend = rawBackend((socket) => socket.end("SSH-2.0-OpenSSH\r\n"));
  const states = new BackendStates();
  const { results, until } = check(states, backend.address, settings());
  await until(1);
  expect(results[0]).toMatchObject({ ok: false, status: 0, error: "bad status line" });
});

test("a refused port fails", async () => {
  const port = await freePort();
  const address = addressOf(["127.0.0.1", port]);
  const states = new BackendStates();
  const state = states.get(address.key);
  const info = spyOn(log, "info");
  try {
    const down = nextChange(states, state);
    check(states, address, settings({ fall: 1 }));
    expect(await down).toBe("down");
    expect(state.check).toMatchObject({ ok: false, status: 0, error: "refused" });
    expect(info.mock.calls[0]![0]).toBe(`backend ${address.key} is down: 1 check failed: refused`);
  } finally {
    info.mockRestore();
  }
});

test("a flapping backend changes state only after `rise` or `fall` checks in a row", async () => {
  const script = [200, 500, 200, 500, 500, 200, 500, 200, 200];
  const backend = rawBackend((socket, _head, index) => respond(socket, script[index] ?? 200));
  const states = new BackendStates();
  const state = states.get(backend.address.key);
  const changes: [Health, number][] = [];
  const { results } = check(states, backend.address, settings({ rise: 2, fall: 2 }));
  const up = new Promise<void>((resolve) =>
    states.onChange((changed) => {
      changes.push([changed.health, results.length]);
      if (changed.health === "up") resolve();
    }),
  );
  await up;
  expect(state.health).toBe("up");
  // Down at the second 500 in a row (check 5), up at the second 200 in a row (check 9).
  expect(changes).toEqual([
    ["down", 5],
    ["up", 9],
  ]);
});

test("the checker never has two checks in flight", async () => {
  // Each answer takes longer than the interval between checks.
  const backend = rawBackend((socket) => setTimeout(() => respond(socket, 200), 30));
  const states = new BackendStates();
  const { results, until } = check(states, backend.address, settings({ interval: 0.01 }));
  await until(6);
  expect(results.every((result) => result.ok)).toBe(true);
  expect(backend.maxInFlight).toBe(1);
  expect(backend.connections).toBe(6);
});

test("expect takes one status or a class of them", async () => {
  const cases: [number | string, number, boolean][] = [
    [204, 204, true],
    [204, 200, false],
    ["3xx", 302, true],
    ["3xx", 200, false],
  ];
  for (const [expected, status, ok] of cases) {
    const backend = rawBackend(withStatus(status));
    const states = new BackendStates();
    const { results, until } = check(states, backend.address, settings({ expect: expected }));
    await until(1);
    expect(results[0]).toMatchObject({ ok, status });
    if (!ok) expect(results[0]!.error).toBe(`status ${status}`);
  }
  expect(statusMatches("2xx", 299)).toBe(true);
  expect(statusMatches("2xx", 300)).toBe(false);
  expect(statusMatches("5xx", 503)).toBe(true);
});

test("the request: GET path, Host (the backend's address unless `host`), Connection: close, User-Agent", async () => {
  const backend = rawBackend(withStatus(200));
  const states = new BackendStates();
  const plain = check(states, backend.address, settings());
  await plain.until(1);
  plain.checker.stop();
  const named = check(states, backend.address, {
    ...settings(),
    path: "/status?full=1",
    host: "app.example.com",
  });
  await named.until(1);
  expect(backend.heads).toEqual([
    `GET /health HTTP/1.1\r\nHost: ${backend.address.key}\r\nConnection: close\r\n` +
      "User-Agent: mantrid-health-check\r\n\r\n",
    "GET /status?full=1 HTTP/1.1\r\nHost: app.example.com\r\nConnection: close\r\n" +
      "User-Agent: mantrid-health-check\r\n\r\n",
  ]);
});

test("after stop() no further connection reaches the backend", async () => {
  const backend = rawBackend(withStatus(200));
  const states = new BackendStates();
  const { checker, results, until } = check(states, backend.address, settings({ interval: 0.02 }));
  await until(2);
  checker.stop();
  const connections = backend.connections;
  // Nothing to await when nothing happens: watch for ten intervals.
  await Bun.sleep(200);
  expect(backend.connections).toBe(connections);
  expect(results.length).toBe(2);
});

test("stop() closes the socket of a check in flight, and its check records nothing", async () => {
  let asked!: () => void;
  const requested = new Promise<void>((resolve) => {
    asked = resolve;
  });
  // The request arrived: the checker's socket is open, and the answer never comes.
  const backend = rawBackend(() => asked());
  const states = new BackendStates();
  const { checker, results } = check(states, backend.address, settings({ timeout: 5 }));
  await requested;
  const closed = backend.nextClose();
  checker.stop();
  await closed;
  expect(results).toEqual([]);
  expect(states.get(backend.address.key).check).toBeNull();
});
