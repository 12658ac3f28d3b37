/**
 * The dashboard's routes without a browser: what needs the token and what does
 * not, the files it serves, and what its stream says. The browser test is
 * test/e2e/dashboard.test.ts.
 */
import { afterEach, describe, expect, test } from "bun:test";
import {
  BOUNDS_MS,
  quantile,
  readDurations,
  windowP99,
  windowQuantile,
} from "../../src/management/dashboard/latency.ts";
import type { Hello, Sample } from "../../src/management/dashboard/sample.ts";
import { parseRule, type Rule } from "../../src/rules/schema.ts";
import { NO_RULE } from "../../src/stats/metrics/book.ts";
import { DURATION, SLOTS } from "../../src/stats/metrics/layout.ts";
import type { MetricsView } from "../../src/stats/metrics/snapshot.ts";
import { startMantrid, type TestMantrid } from "../support/mantrid.ts";
import { events } from "../support/sse.ts";
import { type Harness, type HarnessOptions, startHarness } from "./harness.ts";

const TOKEN = "dash-token";
const AUTH = { authorization: `Bearer ${TOKEN}` };
const HTML = { accept: "text/html,application/xhtml+xml,*/*;q=0.8" };

let h: Harness | null = null;
let server: TestMantrid | null = null;
afterEach(async () => {
  await h?.close();
  await server?.stop();
  h = server = null;
});

/** A management API alone, closed after the test. */
async function harness(options?: HarnessOptions): Promise<Harness> {
  h = await startHarness(options);
  return h;
}

function rule(triple: unknown[]): Rule {
  const parsed = parseRule(triple);
  if (!parsed.ok) throw new Error(parsed.problems[0]!.message);
  return parsed.value;
}

describe("with a token", () => {
  test("the page and its files need none; the stream and the API do", async () => {
    const h = await harness({ token: TOKEN });
    const page = await fetch(`${h.url}/`, { headers: HTML });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toStartWith("text/html");
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('<body data-token="required">');
    expect(html).not.toContain(TOKEN);
    for (const path of ["/dashboard", "/dashboard/"]) {
      expect((await fetch(h.url + path)).status).toBe(200);
    }
    const files: Record<string, string> = {
      "uplot.js": "text/javascript",
      "uplot.css": "text/css",
      "dashboard.js": "text/javascript",
      "dashboard.css": "text/css",
    };
    for (const [name, type] of Object.entries(files)) {
      const response = await fetch(`${h.url}/dashboard/${name}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toStartWith(type);
      expect((await response.text()).length).toBeGreaterThan(100);
    }

    // An API client asking for `/` still meets the token, and so does every other path.
    expect((await fetch(`${h.url}/`)).status).toBe(401);
    expect((await fetch(`${h.url}/`, { headers: { accept: "application/json" } })).status).toBe(
      401,
    );
    for (const path of ["/dashboard/stream", "/dashboard/stream/", "/dashboard/nope.js"]) {
      const response = await fetch(h.url + path);
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe("Bearer");
    }
    const post = await fetch(`${h.url}/dashboard/uplot.js`, { method: "POST" });
    expect(post.status).toBe(401);
    const wrong = await fetch(`${h.url}/dashboard/stream`, {
      headers: { authorization: "Bearer nope" },
    });
    expect(wrong.status).toBe(401);

    const stream = await fetch(`${h.url}/dashboard/stream`, { headers: AUTH });
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toStartWith("text/event-stream");
    const reader = events(stream);
    expect((await reader.next()).event).toBe("hello");
    await reader.close();
  });
});

describe("without a token", () => {
  test("`/` answers a browser with the page and anything else with JSON", async () => {
    const h = await harness();
    const html = await (await fetch(`${h.url}/`, { headers: HTML })).text();
    expect(html).toContain("<title>Mantrid</title>");
    expect(html).toContain("<body>");
    const json = await fetch(`${h.url}/`);
    expect(await json.json()).toMatchObject({ name: "mantrid" });
    expect((await fetch(`${h.url}/dashboard/nope.js`)).status).toBe(404);
    expect((await fetch(`${h.url}/dashboard/uplot.js`, { method: "PUT" })).status).toBe(405);
  });

  test("the stream says hello, then a sample a second with the rules and their rates", async () => {
    const h = await harness();
    await h.registry.set("a.test", rule(["proxy", { backends: ["127.0.0.1:9"] }, false]));
    await h.registry.set("b.test", rule(["empty", { code: 204 }, true]));
    const reader = events(await fetch(`${h.url}/dashboard/stream`));
    try {
      const hello = await reader.next();
      expect(hello.event).toBe("hello");
      // No rates and no durations in a management API alone.
      expect(hello.data as Hello).toEqual({ history: [], errors: false, p99: false });

      const first = await reader.next();
      expect(first.event).toBe("sample");
      const sample = first.data as Sample;
      expect(sample.hostCount).toBe(2);
      expect(sample.hosts.map((row) => row.host)).toEqual(["a.test", "b.test"]);
      expect(sample.hosts[1]!.rule).toEqual(["empty", { code: 204 }, true]);
      expect(sample.backends).toMatchObject([
        { address: "127.0.0.1:9", state: "up", rules: ["a.test"] },
      ]);

      // Counters that move show as rates in the next sample, and in its totals.
      const counters = h.stats.of("a.test");
      counters.completed_requests += 50;
      counters.bytes_sent += 5000;
      counters.open_requests = 2;
      const next = (await reader.next()).data as Sample;
      const row = next.hosts.find((host) => host.host === "a.test")!;
      expect(row.rps).toBeGreaterThan(0);
      expect(row.sent).toBeGreaterThan(0);
      expect(row.open).toBe(2);
      expect(row.errors).toBeNull();
      expect(next.totals.rps).toBeCloseTo(row.rps);
      expect(next.totals.t).toBeGreaterThanOrEqual(sample.totals.t);
    } finally {
      await reader.close();
    }
  }, 10_000);
});

describe("p99 over a window, from the metrics' duration buckets", () => {
  // Milliseconds: 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10000, then +Inf.
  const buckets = (counts: Record<number, number>) => {
    const all = new Array<number>(BOUNDS_MS.length + 1).fill(0);
    for (const [i, count] of Object.entries(counts)) all[Number(i)] = count;
    return all;
  };

  test("is that of the bucket deltas, interpolated within the bucket", () => {
    expect(BOUNDS_MS).toEqual([0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10000]);
    // 100 new requests between 2.5 and 5 ms (50 were there before): rank 99 of 100.
    const p99 = windowQuantile(0.99, buckets({ 3: 50 }), buckets({ 3: 150 }), BOUNDS_MS);
    expect(p99).toBeCloseTo(4.975, 10);
    // 90 fast ones below 0.5 ms, 10 between 5 and 10 ms: the 99th is the 9th of those 10.
    const mixed = windowQuantile(
      0.99,
      buckets({ 0: 7, 4: 3 }),
      buckets({ 0: 97, 4: 13 }),
      BOUNDS_MS,
    );
    expect(mixed).toBeCloseTo(9.5, 10);
    // The first bucket starts at 0; the median of 10 there is halfway up it.
    expect(windowQuantile(0.5, undefined, buckets({ 0: 10 }), BOUNDS_MS)).toBeCloseTo(0.25, 10);
    // Slower than the last bound: reported as that bound.
    expect(windowQuantile(0.99, buckets({}), buckets({ 13: 4 }), BOUNDS_MS)).toBe(10_000);
    expect(quantile(0.99, [0, 0, 100, 0, 0], [1, 5, 10, 50])).toBeCloseTo(9.95, 10);
  });

  test("an empty window, or counts that went back, give null", () => {
    expect(windowQuantile(0.99, buckets({ 3: 150 }), buckets({ 3: 150 }), BOUNDS_MS)).toBeNull();
    expect(windowQuantile(0.99, undefined, buckets({}), BOUNDS_MS)).toBeNull();
    expect(windowQuantile(0.99, buckets({ 3: 150 }), buckets({ 3: 20 }), BOUNDS_MS)).toBeNull();
  });

  test("per rule and for all rules together, read from a metrics view", () => {
    const rule = (counts: Record<number, number>) => {
      const slots = new Float64Array(SLOTS);
      for (const [i, count] of Object.entries(counts)) slots[DURATION + Number(i)] = count;
      return { counts: slots, open: 0 };
    };
    const view = (rules: [string, ReturnType<typeof rule>][]): MetricsView => ({
      rules: new Map(rules),
      backends: new Map(),
      openConnections: 0,
      spinning: 0,
      waiting: 0,
      processes: [],
    });
    const before = readDurations(view([["a.test", rule({ 3: 50 })]]));
    const after = readDurations(
      view([
        ["a.test", rule({ 3: 150 })],
        ["b.test", rule({ 0: 100 })],
        ["quiet.test", rule({ 5: 8 })],
        [NO_RULE, rule({ 12: 1000 })],
      ]),
    );
    // quiet.test had its 8 before too: nothing in this window.
    before.set("quiet.test", after.get("quiet.test")!);
    expect([...after.keys()]).toEqual(["a.test", "b.test", "quiet.test"]);
    const { byHost, all } = windowP99(before, after);
    expect(byHost.get("a.test")).toBeCloseTo(4.975, 10);
    expect(byHost.get("b.test")).toBeCloseTo(0.495, 10);
    expect(byHost.has("quiet.test")).toBe(false);
    // 200 requests: the 198th is the 98th of a.test's 100 between 2.5 and 5 ms.
    expect(all).toBeCloseTo(4.95, 10);
    expect(windowP99(after, after)).toEqual({ byHost: new Map(), all: null });
  });
});

/** Requests to `host` through the server, one after another, until stopped. */
function traffic(port: number, host: string) {
  let running = true;
  const done = (async () => {
    while (running) {
      const response = await fetch(`http://127.0.0.1:${port}/`, { headers: { host } });
      await response.arrayBuffer();
    }
  })();
  return async () => {
    running = false;
    await done;
  };
}

describe("a real server in this process", () => {
  test("a hostname with traffic has a p99, and so has the total", async () => {
    server = await startMantrid();
    await server.set("busy.test", ["empty", { code: 204 }, false]);
    await server.set("idle.test", ["empty", { code: 204 }, false]);
    const reader = events(await fetch(`${server.url}/dashboard/stream`));
    const stop = traffic(server.port, "busy.test");
    try {
      const hello = (await reader.next()).data as Hello;
      expect(hello).toMatchObject({ errors: true, p99: true });
      const row = (sample: Sample, host: string) => sample.hosts.find((r) => r.host === host);
      const sample = await reader.until<Sample>(
        (s) => typeof row(s, "busy.test")?.p99 === "number",
        15,
        "a p99 for busy.test",
      );
      const p99 = row(sample, "busy.test")!.p99!;
      expect(p99).toBeGreaterThan(0);
      expect(p99).toBeLessThanOrEqual(10_000);
      expect(row(sample, "idle.test")!.p99).toBeNull();
      expect(sample.totals.p99).toBeGreaterThan(0);
    } finally {
      await stop();
      await reader.close();
    }
  }, 30_000);

  test("metrics = false: rates as ever, p99 not counted", async () => {
    server = await startMantrid({ metrics: false });
    await server.set("busy.test", ["empty", { code: 204 }, false]);
    const reader = events(await fetch(`${server.url}/dashboard/stream`));
    const stop = traffic(server.port, "busy.test");
    try {
      expect((await reader.next()).data as Hello).toEqual({
        history: [],
        errors: true,
        p99: false,
      });
      const sample = await reader.until<Sample>(
        (s) => (s.hosts.find((r) => r.host === "busy.test")?.rps ?? 0) > 0,
        15,
        "a rate for busy.test",
      );
      const busy = sample.hosts.find((r) => r.host === "busy.test")!;
      expect(busy.p99).toBeNull();
      expect(busy.errors).toBe(0);
      expect(sample.totals.p99).toBeNull();
    } finally {
      await stop();
      await reader.close();
    }
  }, 30_000);
});
