/**
 * `GET /metrics` of a real server in this process, after known traffic to
 * real backends: every counter and histogram count is exact, each format
 * parses strictly, the token applies, and a million rules with traffic on ten
 * hostnames make series for those ten only. With `metrics = false` nothing is
 * counted and the path says so.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAddress } from "../../src/config/address.ts";
import { type Config, DEFAULTS } from "../../src/config/config.ts";
import { startDataPlane } from "../../src/proxy/data-plane.ts";
import { parseRule, type RuleSet } from "../../src/rules/schema.ts";
import { StatsBook } from "../../src/stats/host-stats.ts";
import { codeSlot } from "../../src/stats/metrics/layout.ts";
import { Observers } from "../../src/stats/observers.ts";
import { freePort, httpBackend, namedBackend, type TestBackend } from "../support/backend.ts";
import { startMantrid, type TestMantrid } from "../support/mantrid.ts";
import { type Family, parseMetrics, samplesOf, sampleValue } from "../support/metrics-text.ts";
import { waitFor } from "../support/wait.ts";

let ok: TestBackend;
let failing: TestBackend;
let OK: string;
let FAILING: string;
let REFUSED: string;
beforeAll(async () => {
  ok = await namedBackend("ok");
  failing = await httpBackend((_request, response) => {
    response.statusCode = 500;
    response.end("broken");
  });
  OK = `127.0.0.1:${ok.port}`;
  FAILING = `127.0.0.1:${failing.port}`;
  REFUSED = `127.0.0.1:${await freePort()}`;
});
afterAll(async () => {
  await ok.close();
  await failing.close();
});

let mantrid: TestMantrid | null = null;
afterEach(async () => {
  await mantrid?.stop();
  mantrid = null;
});

async function start(token?: string): Promise<TestMantrid> {
  mantrid = await startMantrid(token === undefined ? {} : { managementToken: token });
  return mantrid;
}

async function send(server: TestMantrid, host: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const response = await fetch(`http://127.0.0.1:${server.port}/`, { headers: { Host: host } });
    await response.arrayBuffer();
  }
}

async function scrape(
  server: TestMantrid,
  headers: Record<string, string> = {},
): Promise<Map<string, Family>> {
  const response = await fetch(`${server.url}/metrics`, { headers });
  expect(response.status).toBe(200);
  const format = response.headers.get("content-type")!.startsWith("application/openmetrics-text")
    ? "openmetrics"
    : "prometheus";
  return parseMetrics(await response.text(), format);
}

/** Every value the `rule` label takes in the exposition. */
function ruleLabels(families: Map<string, Family>): Set<string> {
  const found = new Set<string>();
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.labels.rule !== undefined) found.add(sample.labels.rule);
    }
  }
  return found;
}

describe("a known traffic mix", () => {
  let server: TestMantrid;
  let families: Map<string, Family>;
  beforeAll(async () => {
    server = await startMantrid();
    await server.set("ok.test", ["proxy", { backends: [OK] }, true]);
    await server.set("err.test", ["proxy", { backends: [FAILING] }, false]);
    await server.set("refused.test", ["proxy", { backends: [REFUSED] }, false]);
    // 60 answered 200 (20 of them for a subdomain, counted under the rule that matched),
    // 30 answered 500 by their backend, 10 refused (502).
    await send(server, "ok.test", 40);
    await send(server, "www.ok.test", 20);
    await send(server, "err.test", 30);
    await send(server, "refused.test", 10);
    families = await scrape(server);
  });
  afterAll(() => server.stop());

  const value = (name: string, labels: Record<string, string> = {}) =>
    sampleValue(families, name, labels);

  test("requests by rule and status class", () => {
    const requests = samplesOf(families, "mantrid_requests_total").map((s) => [
      s.labels.rule,
      s.labels.code,
      s.value,
    ]);
    expect(requests).toEqual([
      ["ok.test", "2xx", 60],
      ["err.test", "5xx", 30],
      ["refused.test", "5xx", 10],
    ]);
    expect(ruleLabels(families)).toEqual(new Set(["ok.test", "err.test", "refused.test"]));
  });

  test("histogram counts equal the requests; only answered ones have a response head time", () => {
    for (const [rule, count] of [
      ["ok.test", 60],
      ["err.test", 30],
      ["refused.test", 10],
    ] as const) {
      expect(value("mantrid_request_duration_seconds_count", { rule })).toBe(count);
      expect(value("mantrid_open_requests", { rule })).toBe(0);
      expect(value("mantrid_retries_total", { rule })).toBe(0);
      expect(value("mantrid_incomplete_requests_total", { rule })).toBe(0);
    }
    expect(value("mantrid_response_head_seconds_count", { rule: "ok.test" })).toBe(60);
    expect(value("mantrid_response_head_seconds_count", { rule: "err.test" })).toBe(30);
    expect(value("mantrid_response_head_seconds_count", { rule: "refused.test" })).toBeUndefined();
  });

  test("bytes per rule are those of /stats/", async () => {
    for (const rule of ["ok.test", "err.test", "refused.test"]) {
      const stats = (await (await fetch(`${server.url}/stats/${rule}`)).json()) as Record<
        string,
        number
      >;
      expect(value("mantrid_sent_bytes_total", { rule })).toBe(stats.bytes_sent!);
      expect(value("mantrid_received_bytes_total", { rule })).toBe(stats.bytes_received!);
    }
  });

  test("per backend: answers by class, connect failures, state, latency", () => {
    const backend = (address: string) => ({ backend: address });
    expect(value("mantrid_backend_requests_total", { ...backend(OK), code: "2xx" })).toBe(60);
    expect(value("mantrid_backend_requests_total", { ...backend(FAILING), code: "5xx" })).toBe(30);
    expect(value("mantrid_backend_requests_total", backend(REFUSED))).toBeUndefined();
    expect(value("mantrid_backend_response_head_seconds_count", backend(OK))).toBe(60);
    expect(value("mantrid_backend_request_duration_seconds_count", backend(FAILING))).toBe(30);
    expect(value("mantrid_backend_sent_bytes_total", backend(OK))).toBe(
      value("mantrid_sent_bytes_total", { rule: "ok.test" }),
    );
    expect(value("mantrid_backend_connect_failures_total", backend(REFUSED))).toBe(10);
    expect(value("mantrid_backend_failures_total", backend(REFUSED))).toBe(10);
    expect(value("mantrid_backend_connect_failures_total", backend(OK))).toBe(0);
    expect(value("mantrid_backend_open_requests", backend(OK))).toBe(0);
    for (const address of [OK, FAILING, REFUSED]) {
      expect(value("mantrid_backend_state", { ...backend(address), state: "up" })).toBe(1);
    }
  });

  test("the rule set and the process", () => {
    expect(value("mantrid_rules")).toBe(3);
    expect(value("mantrid_held_requests", { reason: "spin" })).toBe(0);
    expect(value("process_resident_memory_bytes")).toBeGreaterThan(0);
    expect(value("process_open_fds")).toBeGreaterThan(0);
    expect(value("mantrid_uptime_seconds")).toBeGreaterThan(0);
    expect(value("mantrid_build_info", { version: "0.1.0" })).toBe(1);
    expect(value("mantrid_open_connections")).toBeGreaterThanOrEqual(0);
  });

  test("OpenMetrics on Accept, with the same figures and # EOF", async () => {
    const response = await fetch(`${server.url}/metrics`, {
      headers: { Accept: "application/openmetrics-text;version=1.0.0,text/plain;q=0.5" },
    });
    expect(response.headers.get("content-type")).toBe(
      "application/openmetrics-text; version=1.0.0; charset=utf-8",
    );
    const text = await response.text();
    expect(text.endsWith("\n# EOF\n")).toBe(true);
    const open = parseMetrics(text, "openmetrics");
    expect(open.get("mantrid_requests")?.type).toBe("counter");
    expect(sampleValue(open, "mantrid_requests_total", { rule: "err.test", code: "5xx" })).toBe(30);
  });
});

test("the text format by default, and the generation grows with each rule change", async () => {
  const server = await start();
  const response = await fetch(`${server.url}/metrics`);
  expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  const before = sampleValue(
    parseMetrics(await response.text(), "prometheus"),
    "mantrid_rule_set_generation",
  )!;
  await server.set("a.test", ["empty", { code: 204 }, false]);
  await server.set("b.test", ["empty", { code: 204 }, false]);
  expect(sampleValue(await scrape(server), "mantrid_rule_set_generation")).toBe(before + 2);
  // As every path of the API, with or without its trailing slash.
  expect((await fetch(`${server.url}/metrics/`)).status).toBe(200);
});

test("retries: attempts beyond the first, with the refused backend's connect failures", async () => {
  const server = await start();
  const rule = { backends: [REFUSED, OK], policy: "first", attempts: 2 };
  await server.set("retry.test", ["proxy", rule, false]);
  await send(server, "retry.test", 5);
  const families = await scrape(server);
  expect(sampleValue(families, "mantrid_requests_total", { rule: "retry.test", code: "2xx" })).toBe(
    5,
  );
  expect(sampleValue(families, "mantrid_retries_total", { rule: "retry.test" })).toBe(5);
  expect(
    sampleValue(families, "mantrid_backend_connect_failures_total", { backend: REFUSED }),
  ).toBe(5);
});

test("a spinning request: open and held while it waits, its held time counted after", async () => {
  const server = await start();
  await server.set("spin.test", ["spin", { timeout: 30 }, false]);
  const held = fetch(`http://127.0.0.1:${server.port}/`, { headers: { Host: "spin.test" } });
  await waitFor(async () => {
    const families = await scrape(server);
    return sampleValue(families, "mantrid_held_requests", { reason: "spin" }) === 1;
  }, "a spinning request");
  const during = await scrape(server);
  expect(sampleValue(during, "mantrid_open_requests", { rule: "spin.test" })).toBe(1);
  await server.set("spin.test", ["empty", { code: 204 }, false]);
  expect((await held).status).toBe(204);
  const after = await scrape(server);
  expect(sampleValue(after, "mantrid_requests_total", { rule: "spin.test", code: "2xx" })).toBe(1);
  expect(sampleValue(after, "mantrid_held_seconds_total", { rule: "spin.test" })).toBeGreaterThan(
    0,
  );
  expect(sampleValue(after, "mantrid_held_requests", { reason: "spin" })).toBe(0);
  expect(sampleValue(after, "mantrid_open_requests", { rule: "spin.test" })).toBe(0);
});

test("the token applies to /metrics", async () => {
  const server = await start("s3cret");
  const without = await fetch(`${server.url}/metrics`);
  expect(without.status).toBe(401);
  expect(without.headers.get("www-authenticate")).toBe("Bearer");
  expect(
    (await fetch(`${server.url}/metrics`, { headers: { Authorization: "Bearer x" } })).status,
  ).toBe(401);
  const families = await scrape(server, { Authorization: "Bearer s3cret" });
  expect(families.has("mantrid_requests_total")).toBe(true);
});

test("a million rules with traffic on ten hostnames: series for those ten only", async () => {
  const server = await start();
  // Straight into the registry (as one PUT /hostname/ ends up): one rule object for them all.
  const parsed = parseRule(["empty", { code: 204 }, false]);
  if (!parsed.ok) throw new Error(parsed.problems[0]!.message);
  const rules: RuleSet = new Map();
  for (let i = 0; i < 1_000_000; i++) rules.set(`h${i}.test`, parsed.value);
  await server.running.registry.replaceAll(rules);
  const busy = Array.from({ length: 10 }, (_, i) => `h${i * 99_999}.test`);
  for (const host of busy) await send(server, host, 3);
  // A hostname with no rule: counted under (none), and no series of its own.
  await send(server, "nowhere.test", 1);
  const families = await scrape(server);
  expect(ruleLabels(families)).toEqual(new Set([...busy, "(none)"]));
  expect(sampleValue(families, "mantrid_rules")).toBe(1_000_000);
  for (const rule of busy) {
    expect(sampleValue(families, "mantrid_requests_total", { rule, code: "2xx" })).toBe(3);
    expect(sampleValue(families, "mantrid_request_duration_seconds_count", { rule })).toBe(3);
  }
  const series = [...families.values()].reduce((sum, family) => sum + family.samples.length, 0);
  // The bound the README gives: 44 per rule with traffic, about 55 for the process.
  expect(series).toBeLessThanOrEqual(11 * 44 + 60);
}, 60_000);

describe("metrics = false", () => {
  test("GET /metrics answers 404 with a JSON error that says so; the rest of the API works", async () => {
    const server = await startMantrid({ metrics: false });
    mantrid = server;
    await server.set("a.test", ["empty", { code: 204 }, false]);
    await send(server, "a.test", 2);
    for (const path of ["/metrics", "/metrics/"]) {
      for (const accept of ["text/plain", "application/openmetrics-text;version=1.0.0"]) {
        const response = await fetch(server.url + path, { headers: { Accept: accept } });
        expect(response.status).toBe(404);
        expect(response.headers.get("content-type")).toStartWith("application/json");
        const body = (await response.json()) as { error: string };
        expect(body.error).toContain("metrics = false");
      }
    }
    expect((await fetch(`${server.url}/metrics`, { method: "DELETE" })).status).toBe(405);
    const stats = (await (await fetch(`${server.url}/stats/a.test`)).json()) as {
      completed_requests: number;
    };
    expect(stats.completed_requests).toBe(2);
  });

  test("the plane's book hears no request; with metrics on it does", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mantrid-plane-"));
    try {
      for (const metrics of [false, true]) {
        const config: Config = {
          ...DEFAULTS,
          bind: [parseAddress("127.0.0.1:0")],
          bindInternal: [],
          staticDir: dir,
          metrics,
        };
        // Another observer (as the access log is) hears every request either way.
        const observers = new Observers();
        let heard = 0;
        observers.add({ requestEnded: () => heard++ });
        const plane = await startDataPlane(config, new StatsBook(), {
          reusePort: false,
          observers,
        });
        try {
          const rule = parseRule(["proxy", { backends: [OK] }, false]);
          if (!rule.ok) throw new Error(rule.problems[0]!.message);
          plane.table.set("a.test", rule.value);
          for (let i = 0; i < 3; i++) {
            const response = await fetch(`http://127.0.0.1:${plane.ports.bind[0]}/`, {
              headers: { Host: "a.test" },
            });
            expect(response.status).toBe(200);
            await response.arrayBuffer();
          }
          const snapshot = plane.metrics.snapshot();
          const counted = snapshot.rules["a.test"]?.counts[codeSlot(200)] ?? 0;
          expect(counted).toBe(metrics ? 3 : 0);
          expect(Object.keys(snapshot.rules)).toEqual(metrics ? ["a.test"] : []);
          expect(Object.keys(snapshot.backends)).toEqual(metrics ? [OK] : []);
          expect(heard).toBe(3);
        } finally {
          await plane.stop(0);
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
