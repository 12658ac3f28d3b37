/**
 * Balancing end to end: real Mantrid, real backends that the tests stop,
 * restart and break. Health is watched through `GET /backend/<address>/`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TCPSocketListener } from "bun";
import { freePort, namedBackend, type TestBackend } from "../support/backend.ts";
import { startMantrid, type TestMantrid } from "../support/mantrid.ts";
import { waitFor } from "../support/wait.ts";

let mantrid: TestMantrid;
beforeAll(async () => {
  mantrid = await startMantrid();
});
afterAll(() => mantrid.stop());

/** Sends `count` GETs, `concurrency` at a time over keep-alive, and counts the answers by status. */
async function load(
  host: string,
  count: number,
  concurrency = 10,
  progress = { answered: 0 },
): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  let sent = 0;
  const worker = async () => {
    while (sent < count) {
      sent++;
      const response = await fetch(`http://127.0.0.1:${mantrid.port}/`, {
        headers: { Host: host },
      });
      await response.arrayBuffer();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      progress.answered++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return statuses;
}

async function backendState(address: string): Promise<string> {
  const response = await fetch(`${mantrid.url}/backend/${encodeURIComponent(address)}/`);
  if (response.status !== 200) return `HTTP ${response.status}`;
  return ((await response.json()) as { state: string }).state;
}

/** A plain backend that answers `ok` on a port of the test's choosing, and can be stopped. */
function okBackend(port: number): TCPSocketListener<undefined> {
  return Bun.listen({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(socket, data) {
        if (data.includes("\r\n\r\n"))
          socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      },
    },
  });
}

describe("one dead backend of two", () => {
  let live: TestBackend;
  let dead: number;
  beforeAll(async () => {
    live = await namedBackend("live");
    dead = await freePort();
  });
  afterAll(() => live.close());

  test("before detection, idempotent requests that meet the dead one go on to the live one", async () => {
    await mantrid.set("two.test", [
      "proxy",
      { backends: [`127.0.0.1:${live.port}`, `127.0.0.1:${dead}`], attempts: 2 },
      false,
    ]);
    expect(await load("two.test", 200)).toEqual(new Map([[200, 200]]));
  });

  test("passive ejection: after the first failures the dead one gets no more requests", async () => {
    await mantrid.set("passive.test", [
      "proxy",
      {
        backends: [`127.0.0.1:${live.port}`, `127.0.0.1:${dead}`],
        attempts: 2,
        health: { passive: { failures: 1, eject: 600 } },
      },
      false,
    ]);
    expect(await load("passive.test", 1000)).toEqual(new Map([[200, 1000]]));
    expect(await backendState(`127.0.0.1:${dead}`)).toBe("down");
  });

  test("active checks: once the dead one is found down, 1,000 requests, no error", async () => {
    const other = await freePort();
    await mantrid.set("checked.test", [
      "proxy",
      {
        backends: [`127.0.0.1:${live.port}`, `127.0.0.1:${other}`],
        health: { path: "/", interval: 0.05, timeout: 0.5, fall: 1 },
      },
      false,
    ]);
    await waitFor(async () => (await backendState(`127.0.0.1:${other}`)) === "down", "detection");
    expect(await load("checked.test", 1000)).toEqual(new Map([[200, 1000]]));
  });
});

test("a backend restarted under load, when_all_down spin: no request fails, no API call", async () => {
  const port = await freePort();
  let backend = okBackend(port);
  await mantrid.set("restart.test", [
    "proxy",
    {
      backends: [`127.0.0.1:${port}`],
      health: { path: "/", interval: 0.05, timeout: 0.5, rise: 1, fall: 1 },
      when_all_down: "spin",
    },
    false,
  ]);
  const progress = { answered: 0 };
  const running = load("restart.test", 600, 6, progress);
  await waitFor(() => progress.answered >= 100, "load to be under way");
  backend.stop(true);
  await waitFor(
    async () => (await backendState(`127.0.0.1:${port}`)) === "down",
    "the outage to be seen",
  );
  backend = okBackend(port);
  const statuses = await running;
  backend.stop(true);
  expect(statuses).toEqual(new Map([[200, 600]]));
});

describe("policies over real backends", () => {
  const names = ["a", "b", "c"];
  let backends: TestBackend[];
  beforeAll(async () => {
    backends = await Promise.all(names.map((name) => namedBackend(name)));
  });
  afterAll(async () => {
    for (const backend of backends) await backend.close();
  });

  async function served(host: string, count: number): Promise<Record<string, number>> {
    const seen: Record<string, number> = {};
    for (let i = 0; i < count; i++) {
      const response = await fetch(`http://127.0.0.1:${mantrid.port}/`, {
        headers: { Host: host },
      });
      const name = await response.text();
      seen[name] = (seen[name] ?? 0) + 1;
    }
    return seen;
  }

  test("round_robin with weights 3, 1, 1: exactly 3:1:1", async () => {
    await mantrid.set("rr.test", [
      "proxy",
      {
        policy: "round_robin",
        backends: backends.map((backend, i) => ({
          address: `127.0.0.1:${backend.port}`,
          weight: i === 0 ? 3 : 1,
        })),
      },
      false,
    ]);
    expect(await served("rr.test", 250)).toEqual({ a: 150, b: 50, c: 50 });
  });

  test("first: the first backend takes all; a backup only while no primary is usable", async () => {
    await mantrid.set("first.test", [
      "proxy",
      {
        policy: "first",
        backends: [
          { address: `127.0.0.1:${backends[2]!.port}`, backup: true },
          `127.0.0.1:${backends[1]!.port}`,
          `127.0.0.1:${backends[0]!.port}`,
        ],
      },
      false,
    ]);
    expect(await served("first.test", 20)).toEqual({ b: 20 });
  });

  test("hash on a header: each key always reaches the same backend", async () => {
    await mantrid.set("hash.test", [
      "proxy",
      {
        policy: "hash",
        hash_key: "header:x-user",
        backends: backends.map((b) => `127.0.0.1:${b.port}`),
      },
      false,
    ]);
    for (const user of ["ann", "bob", "cy", "dee"]) {
      const seen = new Set<string>();
      for (let i = 0; i < 10; i++) {
        const response = await fetch(`http://127.0.0.1:${mantrid.port}/`, {
          headers: { Host: "hash.test", "X-User": user },
        });
        seen.add(await response.text());
      }
      expect(seen.size).toBe(1);
    }
  });
});

describe("max_conns", () => {
  test("a request beyond it waits for a slot, and past queue_timeout gets 503", async () => {
    const release = Promise.withResolvers<void>();
    const arrived: string[] = [];
    const slow = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        async data(socket, data) {
          arrived.push(data.toString("latin1").split(" ")[1]!);
          await release.promise;
          socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        },
      },
    });
    await mantrid.set("queue.test", [
      "proxy",
      {
        backends: [{ address: `127.0.0.1:${slow.port}`, max_conns: 1 }],
        queue_timeout: 0.3,
      },
      false,
    ]);
    const get = (path: string) =>
      fetch(`http://127.0.0.1:${mantrid.port}${path}`, { headers: { Host: "queue.test" } });
    const first = get("/first");
    await waitFor(() => arrived.length === 1, "the first request at the backend");
    // The second waits its queue_timeout behind the first, then gets 503.
    expect((await get("/second")).status).toBe(503);
    expect(arrived).toEqual(["/first"]);
    release.resolve();
    expect((await first).status).toBe(200);
    slow.stop(true);
  });

  test("a queued request is served once the slot frees", async () => {
    let answer = () => {};
    const arrived: string[] = [];
    const slow = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(socket, data) {
          arrived.push(data.toString("latin1").split(" ")[1]!);
          answer = () => socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        },
      },
    });
    await mantrid.set("queue2.test", [
      "proxy",
      { backends: [{ address: `127.0.0.1:${slow.port}`, max_conns: 1 }], queue_timeout: 60 },
      false,
    ]);
    const get = (path: string) =>
      fetch(`http://127.0.0.1:${mantrid.port}${path}`, { headers: { Host: "queue2.test" } });
    const first = get("/first");
    await waitFor(() => arrived.length === 1, "the first request at the backend");
    const second = get("/second");
    await waitFor(async () => {
      const stats = await (await fetch(`${mantrid.url}/stats/queue2.test/`)).json();
      return (stats as { open_requests: number }).open_requests === 2;
    }, "the second request to wait in Mantrid");
    answer();
    expect((await first).status).toBe(200);
    await waitFor(() => arrived.length === 2, "the queued request at the backend");
    answer();
    expect((await second).status).toBe(200);
    expect(arrived).toEqual(["/first", "/second"]);
    slow.stop(true);
  });
});

describe("health checkers follow the rules", () => {
  /** Backends that count the health checks they receive. */
  function checkedBackends(count: number) {
    const checks: number[] = new Array(count).fill(0);
    const listeners = checks.map((_, i) =>
      Bun.listen({
        hostname: "127.0.0.1",
        port: 0,
        socket: {
          data(socket, data) {
            if (data.includes("mantrid-health-check")) checks[i]!++;
            socket.end("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
          },
        },
      }),
    );
    return {
      checks,
      listeners,
      stop: () => {
        for (const listener of listeners) listener.stop(true);
      },
    };
  }

  test("10,000 rules sharing 20 backends run 20 checkers", async () => {
    const backends = checkedBackends(20);
    const health = { path: "/health", interval: 0.05, timeout: 1 };
    const rules: Record<string, unknown> = {};
    for (let i = 0; i < 10_000; i++) {
      const two = [i % 20, (i + 1) % 20].map((n) => `127.0.0.1:${backends.listeners[n]!.port}`);
      rules[`h${i}.test`] = ["proxy", { backends: two, health }, false];
    }
    const response = await fetch(`${mantrid.url}/hostname/`, {
      method: "PUT",
      body: JSON.stringify(rules),
    });
    expect(response.status).toBe(200);
    await waitFor(() => backends.checks.every((n) => n >= 3), "three checks at each backend");
    // One checker per backend: far from the hundreds that one per rule would send.
    expect(Math.max(...backends.checks)).toBeLessThan(20);
    await fetch(`${mantrid.url}/hostname/`, { method: "PUT", body: "{}" });
    backends.stop();
  });

  test("the checker stops when the last rule naming its backend is deleted", async () => {
    const backends = checkedBackends(1);
    const health = { path: "/health", interval: 0.05, timeout: 1 };
    const rule = [
      "proxy",
      { backends: [`127.0.0.1:${backends.listeners[0]!.port}`], health },
      false,
    ];
    await mantrid.set("c1.test", rule);
    await mantrid.set("c2.test", rule);
    await fetch(`${mantrid.url}/hostname/c1.test/`, { method: "DELETE" });
    const before = backends.checks[0]!;
    await waitFor(() => backends.checks[0]! > before + 2, "checks while one rule remains");
    await fetch(`${mantrid.url}/hostname/c2.test/`, { method: "DELETE" });
    // A check already under way may still land; after it, none.
    const settled = backends.checks[0]! + 1;
    const stillChecked = await waitFor(
      () => backends.checks[0]! > settled,
      "a check after the delete",
      500,
    ).then(
      () => true,
      () => false,
    );
    expect(stillChecked).toBe(false);
    backends.stop();
  });
});
