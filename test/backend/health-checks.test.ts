/** The registry of checkers: shared by address and settings, stopped with their last user. */
import "../support/quiet.ts";
import { afterEach, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import type { BackendAddress } from "../../src/backend/address.ts";
import { checkSettings, HealthChecks } from "../../src/backend/health-checks.ts";
import { addressOf } from "../../src/backend/members.ts";
import { BackendStates, type Health } from "../../src/backend/state.ts";

interface Conn {
  open: boolean;
}

interface RawBackend {
  address: BackendAddress;
  connections: number;
  /** Connections open now, and at most. */
  open: number;
  maxOpen: number;
  paths: string[];
  /** Resolves at the next request for `path`. */
  request(path: string): Promise<void>;
}

const listeners: TCPSocketListener<Conn>[] = [];
const registries: HealthChecks[] = [];
afterEach(() => {
  for (const registry of registries.splice(0)) registry.stopAll();
  for (const listener of listeners.splice(0)) listener.stop(true);
});

/** A backend answering `status`, or never answering when `status` is null. */
function rawBackend(status: () => number | null): RawBackend {
  const onRequest: { path: string; resolve: () => void }[] = [];
  const listener = Bun.listen<Conn>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.data = { open: true };
        backend.connections++;
        backend.open++;
        backend.maxOpen = Math.max(backend.maxOpen, backend.open);
      },
      data(socket: Socket<Conn>, chunk) {
        const path = /^GET (\S+)/.exec(chunk.toString("latin1"))?.[1] ?? "";
        backend.paths.push(path);
        for (const waiter of onRequest.filter((w) => w.path === path)) {
          onRequest.splice(onRequest.indexOf(waiter), 1);
          waiter.resolve();
        }
        const answer = status();
        if (answer !== null) socket.end(`HTTP/1.1 ${answer} X\r\nContent-Length: 0\r\n\r\n`);
      },
      close(socket) {
        if (socket.data.open) backend.open--;
        socket.data.open = false;
      },
    },
  });
  listeners.push(listener);
  const backend: RawBackend = {
    address: addressOf(["127.0.0.1", listener.port]),
    connections: 0,
    open: 0,
    maxOpen: 0,
    paths: [],
    request: (path) => new Promise((resolve) => onRequest.push({ path, resolve })),
  };
  return backend;
}

function registry(states = new BackendStates()): HealthChecks {
  const checks = new HealthChecks(states);
  registries.push(checks);
  return checks;
}

/** Awaits `count` more requests for `path`. */
async function requests(backend: RawBackend, path: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await backend.request(path);
}

test("checkSettings fills the defaults, and asks for no checker without a path", () => {
  expect(checkSettings({ path: "/h" })).toEqual({
    path: "/h",
    interval: 2,
    timeout: 1,
    rise: 2,
    fall: 3,
    expect: "2xx",
    host: null,
  });
  expect(checkSettings({ path: "/h", interval: 5, expect: 204, host: "a.example" })).toMatchObject({
    interval: 5,
    expect: 204,
    host: "a.example",
  });
  expect(checkSettings({ passive: { failures: 2 } })).toBeNull();
  expect(checkSettings(undefined)).toBeNull();
  // One canonical form whatever the order of the options.
  expect(JSON.stringify(checkSettings({ timeout: 0.5, path: "/h", rise: 1 }))).toBe(
    JSON.stringify(checkSettings({ rise: 1, path: "/h", timeout: 0.5 })),
  );
});

test("two acquisitions with the same settings share one checker", async () => {
  // A backend that never answers holds each check's connection until its timeout.
  const backend = rawBackend(() => null);
  const checks = registry();
  const first = checks.acquire(backend.address, { path: "/h", interval: 0.02, timeout: 0.05 });
  // The same settings in another order, with passive options that are not the checker's.
  const second = checks.acquire(backend.address, {
    timeout: 0.05,
    passive: { failures: 1 },
    interval: 0.02,
    path: "/h",
  });
  expect(second).toBe(first!);
  expect(checks.size).toBe(1);
  expect(checks.has(backend.address.key)).toBe(true);
  await requests(backend, "/h", 4);
  expect(backend.maxOpen).toBe(1);
});

test("different settings, or another address, make another checker", async () => {
  const one = rawBackend(() => 200);
  const two = rawBackend(() => 200);
  const checks = registry();
  const a = checks.acquire(one.address, { path: "/a", interval: 0.02 });
  const b = checks.acquire(one.address, { path: "/b", interval: 0.02 });
  const c = checks.acquire(one.address, { path: "/a", interval: 0.03 });
  const d = checks.acquire(two.address, { path: "/a", interval: 0.02 });
  expect(new Set([a, b, c, d]).size).toBe(4);
  expect(checks.size).toBe(4);
  await Promise.all([one.request("/a"), one.request("/b"), two.request("/a")]);
});

test("acquiring without a path starts nothing", () => {
  const checks = registry();
  const address = addressOf(["127.0.0.1", 1]);
  expect(checks.acquire(address, { passive: {} })).toBeNull();
  expect(checks.acquire(address, undefined)).toBeNull();
  checks.release(address, { passive: {} });
  expect(checks.size).toBe(0);
  expect(checks.has(address.key)).toBe(false);
});

test("the checker stops when its last user releases it", async () => {
  const backend = rawBackend(() => 200);
  const checks = registry();
  const health = { path: "/h", interval: 0.02 };
  checks.acquire(backend.address, health);
  checks.acquire(backend.address, { ...health });
  await requests(backend, "/h", 1);
  checks.release(backend.address, health);
  expect(checks.size).toBe(1);
  // Still checking for the user left.
  await requests(backend, "/h", 2);
  checks.release(backend.address, health);
  expect(checks.size).toBe(0);
  expect(checks.has(backend.address.key)).toBe(false);
  const connections = backend.connections;
  // Nothing to await when nothing happens: watch for ten intervals.
  await Bun.sleep(200);
  expect(backend.connections).toBe(connections);
  // A release too many does nothing.
  checks.release(backend.address, health);
  expect(checks.size).toBe(0);
});

test("a backend the checks took down is up again once no checker is left for it", async () => {
  const backend = rawBackend(() => 500);
  const states = new BackendStates();
  const state = states.get(backend.address.key);
  const checks = registry(states);
  const health = { path: "/h", interval: 0.02, fall: 1 };
  const changes: Health[] = [];
  const down = new Promise<void>((resolve) =>
    states.onChange((changed) => {
      changes.push(changed.health);
      resolve();
    }),
  );
  checks.acquire(backend.address, health);
  checks.acquire(backend.address, { ...health, path: "/other" });
  await down;
  expect(state.health).toBe("down");
  // Another checker still watches the address: it decides.
  checks.release(backend.address, health);
  expect(state.health).toBe("down");
  checks.release(backend.address, { ...health, path: "/other" });
  expect(state.health).toBe("up");
  expect(changes).toEqual(["down", "up"]);
});

test("stopAll stops every checker", async () => {
  const one = rawBackend(() => 200);
  const two = rawBackend(() => 200);
  const checks = registry();
  checks.acquire(one.address, { path: "/h", interval: 0.02 });
  checks.acquire(two.address, { path: "/h", interval: 0.02 });
  await Promise.all([one.request("/h"), two.request("/h")]);
  checks.stopAll();
  expect(checks.size).toBe(0);
  expect(checks.has(one.address.key)).toBe(false);
  const counts = [one.connections, two.connections];
  await Bun.sleep(200);
  expect([one.connections, two.connections]).toEqual(counts);
});
