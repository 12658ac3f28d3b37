/**
 * The dashboard's routes without a browser: what needs the token and what does
 * not, the files it serves, and what its stream says. The browser test is
 * test/e2e/dashboard.test.ts.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { DashboardDurations } from "../../src/management/dashboard/durations.ts";
import { quantile, RecentLatency } from "../../src/management/dashboard/latency.ts";
import type { Hello, Sample } from "../../src/management/dashboard/sample.ts";
import { parseRule, type Rule } from "../../src/rules/schema.ts";
import type { RequestEnd } from "../../src/stats/request-end.ts";
import { type Harness, startHarness } from "./harness.ts";

const TOKEN = "dash-token";
const AUTH = { authorization: `Bearer ${TOKEN}` };
const HTML = { accept: "text/html,application/xhtml+xml,*/*;q=0.8" };

let h: Harness;
afterEach(() => h.close());

function rule(triple: unknown[]): Rule {
  const parsed = parseRule(triple);
  if (!parsed.ok) throw new Error(parsed.problems[0]!.message);
  return parsed.value;
}

/** Reads Server-Sent Events off a response, one at a time. */
function events(response: Response) {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  return {
    async next(): Promise<{ event: string; data: unknown }> {
      for (;;) {
        const end = buffer.indexOf("\n\n");
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
          const data = [...block.matchAll(/^data: (.*)$/gm)].map((m) => m[1]).join("\n");
          return { event, data: JSON.parse(data) };
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("the stream ended");
        buffer += value;
      }
    },
    close: () => reader.cancel(),
  };
}

describe("with a token", () => {
  test("the page and its files need none; the stream and the API do", async () => {
    h = await startHarness({ token: TOKEN });
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
    h = await startHarness();
    const html = await (await fetch(`${h.url}/`, { headers: HTML })).text();
    expect(html).toContain("<title>Mantrid</title>");
    expect(html).toContain("<body>");
    const json = await fetch(`${h.url}/`);
    expect(await json.json()).toMatchObject({ name: "mantrid" });
    expect((await fetch(`${h.url}/dashboard/nope.js`)).status).toBe(404);
    expect((await fetch(`${h.url}/dashboard/uplot.js`, { method: "PUT" })).status).toBe(405);
  });

  test("the stream says hello, then a sample a second with the rules and their rates", async () => {
    h = await startHarness();
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

describe("p99", () => {
  const bounds = [1, 5, 10, 50];

  test("is interpolated within its bucket, as Prometheus does", () => {
    expect(quantile(0.99, [0, 0, 0, 0, 0], bounds)).toBeNull();
    // 100 requests between 5 and 10 ms: the 99th is near 10.
    expect(quantile(0.99, [0, 0, 100, 0, 0], bounds)).toBeCloseTo(9.95);
    // 99 fast ones and one slow: the 99th is still among the fast.
    expect(quantile(0.99, [99, 0, 0, 1, 0], bounds)).toBeCloseTo(1);
    // The slower rest is reported as the largest bound.
    expect(quantile(0.99, [0, 0, 0, 0, 7], bounds)).toBe(50);
  });

  test("reads the last seconds, and forgets a quiet hostname", () => {
    const recent = new RecentLatency(bounds);
    expect(recent.update(new Map())).toEqual({ byHost: new Map(), all: null });
    const second = recent.update(new Map([["a", [0, 0, 100, 0, 0]]]));
    expect(second.byHost.get("a")).toBeCloseTo(9.95);
    expect(second.all).toBeCloseTo(9.95);
    // Nothing new: the host keeps its recent p99 a while, the second's p99 is none.
    const quiet = recent.update(new Map());
    expect(quiet.byHost.get("a")).toBeCloseTo(9.95);
    expect(quiet.all).toBeNull();
    // Slow requests now weigh in, though the older ones still count.
    const slow = recent.update(new Map([["a", [0, 0, 0, 0, 10]]]));
    expect(slow.byHost.get("a")).toBe(50);
    let last = slow;
    for (let i = 0; i < 100; i++) last = recent.update(new Map());
    expect(last.byHost.has("a")).toBe(false);
  });

  test("durations are counted only while a dashboard reads them", async () => {
    const durations = new DashboardDurations();
    const end = (ms: number, status = 200) => {
      const now = performance.now();
      const request = { startedAt: now - ms, endedAt: now, status, ruleKey: "a.test" };
      durations.requestEnded(request as RequestEnd);
    };
    end(3);
    expect(await durations.take()).toEqual(new Map());
    end(3);
    end(0.4);
    end(20_000);
    end(60_000, 101);
    const counts = await durations.take();
    expect(counts.get("a.test")).toEqual([0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(await durations.take()).toEqual(new Map());
  });
});
