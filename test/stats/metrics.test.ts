/**
 * Metrics without a server: histogram bucketing, the exposition format (the
 * same bytes as prom-client for any families, in both formats), a plane's
 * book fed with ended requests, the sums a primary makes of its workers, and
 * the process watch.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { Counter, Gauge, Histogram, Registry, type RegistryContentType } from "prom-client";
import { BackendStates } from "../../src/backend/state.ts";
import { HostStats, StatsBook } from "../../src/stats/host-stats.ts";
import { MetricsBook, NO_RULE } from "../../src/stats/metrics/book.ts";
import {
  bucketOf,
  histogramSlots,
  LATENCY_BOUNDS,
  observe,
} from "../../src/stats/metrics/buckets.ts";
import { Exposition, type Format, labels, negotiate } from "../../src/stats/metrics/exposition.ts";
import {
  CODE_CLASSES,
  codeSlot,
  DURATION,
  HEAD,
  HELD,
  histogramCount,
  INCOMPLETE,
  RECEIVED,
  RETRIES,
  SENT,
} from "../../src/stats/metrics/layout.ts";
import { processWatch } from "../../src/stats/metrics/process.ts";
import { renderMetrics } from "../../src/stats/metrics/render.ts";
import {
  combine,
  combineWorkers,
  Fallen,
  type PlaneSnapshot,
} from "../../src/stats/metrics/snapshot.ts";
import { parseMetrics, samplesOf, sampleValue } from "../support/metrics-text.ts";
import { waitFor } from "../support/wait.ts";
import { ended } from "./ended.ts";

describe("histograms", () => {
  const bounds = [0.001, 0.01, 0.1, 1];

  test("a value goes to the first bucket whose bound it does not exceed", () => {
    expect(bucketOf(bounds, 0)).toBe(0);
    expect(bucketOf(bounds, 0.001)).toBe(0);
    expect(bucketOf(bounds, 0.0010001)).toBe(1);
    expect(bucketOf(bounds, 0.01)).toBe(1);
    expect(bucketOf(bounds, 0.5)).toBe(3);
    expect(bucketOf(bounds, 1)).toBe(3);
    expect(bucketOf(bounds, 1.0001)).toBe(4); // +Inf
    expect(bucketOf(bounds, 1e9)).toBe(4);
  });

  test("observe counts the bucket and adds to the sum, from its offset in the array", () => {
    const slots = new Float64Array(3 + histogramSlots(bounds));
    for (const value of [0.0005, 0.0005, 0.05, 2, 30]) observe(slots, 3, bounds, value);
    expect([...slots]).toEqual([0, 0, 0, 2, 0, 1, 0, 2, 32.051]);
    expect(histogramCount(slots, 3, bounds.length)).toBe(5);
  });

  test("latency buckets cover a fast LAN answer to a slow backend, in order", () => {
    expect(LATENCY_BOUNDS[0]).toBe(0.0005);
    expect(LATENCY_BOUNDS.at(-1)).toBe(10);
    expect([...LATENCY_BOUNDS].sort((a, b) => a - b)).toEqual([...LATENCY_BOUNDS]);
  });

  test("status classes: 1xx to 5xx, and other for none or an odd one", () => {
    expect([0, 99, 100, 101, 204, 304, 404, 502, 599, 600].map(codeSlot)).toEqual([
      5, 5, 0, 0, 1, 2, 3, 4, 4, 5,
    ]);
    expect(CODE_CLASSES[5]).toBe("other");
  });
});

// --- the exposition format, against prom-client -------------------------------

interface FamilyCase {
  type: "counter" | "gauge" | "histogram";
  help: string;
  labelNames: string[];
  bounds: number[];
  /** One series per label tuple: a value, or a histogram's observations. */
  series: { values: string[]; numbers: number[] }[];
}

const text = fc.string({
  maxLength: 8,
  unit: fc.constantFrom("a", "Z", "0", " ", ".", "\\", '"', "\n", "é", "{", "}", "=", ","),
});
const nonNegative = fc.oneof(
  fc.nat(),
  fc.double({ min: 0, max: 1e22, noNaN: true, noDefaultInfinity: true }),
);

const familyCase: fc.Arbitrary<FamilyCase> = fc
  .record({
    type: fc.constantFrom("counter" as const, "gauge" as const, "histogram" as const),
    help: fc.string({
      minLength: 1,
      maxLength: 8,
      unit: fc.constantFrom("a", " ", "\\", "\n", "é"),
    }),
    labelNames: fc.uniqueArray(fc.constantFrom("rule", "code", "backend", "kind"), {
      maxLength: 3,
    }),
    bounds: fc.uniqueArray(fc.double({ min: 0.0001, max: 50, noNaN: true }), {
      minLength: 1,
      maxLength: 6,
    }),
  })
  .chain(({ type, help, labelNames, bounds }) => {
    const numbers =
      type === "histogram"
        ? fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { maxLength: 12 })
        : (type === "counter" ? nonNegative : fc.double({ noNaN: true })).map((n) => [n]);
    const values = fc.array(text, { minLength: labelNames.length, maxLength: labelNames.length });
    const series = fc.uniqueArray(fc.record({ values, numbers }), {
      minLength: labelNames.length === 0 ? 1 : 0,
      maxLength: labelNames.length === 0 ? 1 : 4,
      selector: (one) => JSON.stringify(one.values),
    });
    return series.map((s) => ({
      type,
      help,
      labelNames,
      bounds: [...bounds].sort((a, b) => a - b),
      series: s,
    }));
  });

function ours(cases: FamilyCase[], format: Format): string {
  const out = new Exposition(format);
  cases.forEach((one, i) => {
    const name = one.type === "counter" ? `f${i}_total` : `f${i}`;
    out.family(name, one.type, one.help);
    for (const { values, numbers } of one.series) {
      const rendered = labels(...one.labelNames.map((n, j) => [n, values[j]!] as [string, string]));
      if (one.type !== "histogram") {
        out.sample(name, rendered, numbers[0]!);
        continue;
      }
      const slots = new Float64Array(histogramSlots(one.bounds));
      for (const value of numbers) observe(slots, 0, one.bounds, value);
      out.histogram(name, rendered, slots, 0, one.bounds);
    }
  });
  return out.text();
}

async function promClient(cases: FamilyCase[], format: Format): Promise<string> {
  const registry = new Registry<RegistryContentType>();
  if (format === "openmetrics") registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  cases.forEach((one, i) => {
    const common = { help: one.help, labelNames: one.labelNames, registers: [registry] };
    const labelsOf = (values: string[]) =>
      Object.fromEntries(one.labelNames.map((n, j) => [n, values[j]!]));
    if (one.type === "counter") {
      const counter = new Counter({ name: `f${i}_total`, ...common });
      for (const { values, numbers } of one.series) counter.inc(labelsOf(values), numbers[0]!);
    } else if (one.type === "gauge") {
      const gauge = new Gauge({ name: `f${i}`, ...common });
      for (const { values, numbers } of one.series) gauge.set(labelsOf(values), numbers[0]!);
    } else {
      const histogram = new Histogram({ name: `f${i}`, buckets: one.bounds, ...common });
      for (const { values, numbers } of one.series) {
        histogram.zero(labelsOf(values));
        for (const value of numbers) histogram.observe(labelsOf(values), value);
      }
    }
  });
  return registry.metrics();
}

describe("exposition", () => {
  for (const format of ["prometheus", "openmetrics"] as const) {
    test(`${format}: the same bytes as prom-client for any families`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(familyCase, { minLength: 1, maxLength: 5 }), async (cases) => {
          const mine = ours(cases, format);
          expect(mine).toBe(await promClient(cases, format));
          parseMetrics(mine, format);
        }),
        { numRuns: 300 },
      );
    });
  }

  test("a small case, written out", () => {
    const out = new Exposition("openmetrics");
    out.family("x_requests_total", "counter", 'say "a\\b"\nok');
    out.sample("x_requests_total", labels(["rule", 'a"b\\c\nd']), 3);
    out.family("x_seconds", "histogram", "h");
    const slots = new Float64Array(histogramSlots([0.5]));
    observe(slots, 0, [0.5], 0.25);
    observe(slots, 0, [0.5], 2);
    out.histogram("x_seconds", labels(["rule", "a"]), slots, 0, [0.5]);
    expect(out.text()).toBe(
      [
        '# HELP x_requests say "a\\\\b"\\nok',
        "# TYPE x_requests counter",
        'x_requests_total{rule="a\\"b\\\\c\\nd"} 3',
        "# HELP x_seconds h",
        "# TYPE x_seconds histogram",
        'x_seconds_bucket{le="0.5",rule="a"} 1',
        'x_seconds_bucket{le="+Inf",rule="a"} 2',
        'x_seconds_sum{rule="a"} 2.25',
        'x_seconds_count{rule="a"} 2',
        "# EOF",
        "",
      ].join("\n"),
    );
  });

  test("the strict reader refuses what a scraper would", () => {
    const ok = "# HELP a_total x\n# TYPE a_total counter\na_total 1\n";
    expect(() => parseMetrics(ok, "prometheus")).not.toThrow();
    for (const bad of [
      "a_total 1\n", // no TYPE
      "# HELP a_total x\n# TYPE a_total counter\na_total 1", // no final newline
      "# HELP a_total x\n# TYPE a_total counter\nb_total 1\n", // another family
      '# HELP a_total x\n# TYPE a_total counter\na_total{x="1",} 1\n', // trailing comma
      "# HELP a_total x\n# TYPE a_total counter\na_total 1\na_total 2\n", // repeated
      '# HELP h x\n# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
    ]) {
      expect(() => parseMetrics(bad, "prometheus")).toThrow();
    }
    expect(() => parseMetrics(ok, "openmetrics")).toThrow(); // no # EOF, and _total in the family
  });
});

describe("negotiation", () => {
  test("OpenMetrics when asked for at least as much as text", () => {
    const prometheus =
      "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    expect(negotiate(prometheus)).toBe("openmetrics");
    expect(negotiate("application/openmetrics-text")).toBe("openmetrics");
    expect(negotiate(undefined)).toBe("prometheus");
    expect(negotiate("*/*")).toBe("prometheus");
    expect(negotiate("text/plain")).toBe("prometheus");
    expect(negotiate("text/plain, application/openmetrics-text;q=0.5")).toBe("prometheus");
    expect(negotiate("application/openmetrics-text;q=0, text/plain")).toBe("prometheus");
  });
});

// --- a plane's book ---------------------------------------------------------------

function bookOf() {
  const stats = new StatsBook();
  const states = new BackendStates();
  const gauges = { connections: 0 };
  const book = new MetricsBook(stats, states, {
    openConnections: () => gauges.connections,
    spinning: () => 2,
    waiting: () => 1,
  });
  return { stats, states, book, gauges };
}

describe("MetricsBook", () => {
  test("each ended request counts under its rule and its backend, in the slots of the layout", () => {
    const { stats, states, book } = bookOf();
    const app = stats.of("app.test");
    const backend = states.get("10.0.0.5:8000");
    book.requestEnded(ended({ stats: app, backend, status: 200, bytesIn: 10, bytesOut: 100 }));
    book.requestEnded(
      ended({ stats: app, backend, status: 502, attempts: 3, heldMs: 250, headMs: -1 }),
    );
    book.requestEnded(ended({ stats: app, backend: null, status: 0, completed: false }));

    const counts = app.metrics!;
    expect([...counts.slice(0, CODE_CLASSES.length)]).toEqual([0, 1, 0, 0, 1, 1]);
    expect(counts[INCOMPLETE]).toBe(1);
    expect(counts[RECEIVED]).toBe(10 + 88 + 88);
    expect(counts[SENT]).toBe(100 + 612 + 612);
    expect(counts[RETRIES]).toBe(2);
    expect(counts[HELD]).toBe(0.25);
    expect(histogramCount(counts, DURATION, LATENCY_BOUNDS.length)).toBe(3);
    expect(histogramCount(counts, HEAD, LATENCY_BOUNDS.length)).toBe(2);
    // 12.3456 ms: in the 25 ms bucket.
    expect(counts[DURATION + bucketOf(LATENCY_BOUNDS, 0.0123456)]).toBe(3);

    const mine = backend.metrics!;
    expect([...mine.slice(0, CODE_CLASSES.length)]).toEqual([0, 1, 0, 0, 1, 0]);
    expect(histogramCount(mine, HEAD, LATENCY_BOUNDS.length)).toBe(1);
  });

  test("no rule: counted under (none); an upgrade's tunnel time is no latency", () => {
    const { book } = bookOf();
    book.requestEnded(ended({ stats: null, ruleKey: null, backend: null, status: 503 }));
    const upgraded = new HostStats();
    book.requestEnded(ended({ stats: upgraded, status: 101, endedAt: 900_000 }));
    const plane = book.snapshot();
    expect(Object.keys(plane.rules)).toEqual([NO_RULE, "app.example.com"]);
    expect(plane.rules[NO_RULE]!.counts[codeSlot(503)]).toBe(1);
    const tunnel = plane.rules["app.example.com"]!.counts;
    expect(histogramCount(tunnel, DURATION, LATENCY_BOUNDS.length)).toBe(0);
    expect(histogramCount(tunnel, HEAD, LATENCY_BOUNDS.length)).toBe(1);
  });

  test("series only for rules with traffic; a rule whose first request is still open shows", () => {
    const { stats, states, book, gauges } = bookOf();
    for (let i = 0; i < 1000; i++) stats.of(`idle-${i}.test`);
    stats.restore({ "old.test": { completed_requests: 5, bytes_sent: 10 } });
    stats.of("busy.test").open_requests = 3;
    states.get("10.0.0.9:80"); // named by a rule, never used
    states.get("10.0.0.8:80").connectFailures = 1;
    states.get("10.0.0.8:80").failures = 1;
    gauges.connections = 7;

    const plane = book.snapshot();
    expect(Object.keys(plane.rules)).toEqual(["busy.test"]);
    expect(plane.rules["busy.test"]!.open).toBe(3);
    expect(Object.keys(plane.backends)).toEqual(["10.0.0.8:80"]);
    expect(plane.backends["10.0.0.8:80"]).toMatchObject({ connectFailures: 1, state: "up" });
    expect([plane.openConnections, plane.spinning, plane.waiting]).toEqual([7, 2, 1]);
  });

  test("the rendered view parses strictly in both formats, with the figures of the book", async () => {
    const { stats, states, book } = bookOf();
    const backend = states.get("[::1]:8000");
    for (let i = 0; i < 5; i++) {
      book.requestEnded(ended({ stats: stats.of("a.test"), ruleKey: "a.test", backend }));
    }
    states.setAdmin(backend, "draining");
    const view = await book.view();
    for (const format of ["prometheus", "openmetrics"] as const) {
      const families = parseMetrics(
        Buffer.concat(await renderMetrics(view, { rules: 4, generation: 9 }, format)).toString(),
        format,
      );
      expect(sampleValue(families, "mantrid_requests_total", { rule: "a.test", code: "2xx" })).toBe(
        5,
      );
      expect(
        sampleValue(families, "mantrid_request_duration_seconds_count", { rule: "a.test" }),
      ).toBe(5);
      const state = { backend: "[::1]:8000" };
      expect(sampleValue(families, "mantrid_backend_state", { ...state, state: "draining" })).toBe(
        1,
      );
      expect(sampleValue(families, "mantrid_backend_state", { ...state, state: "up" })).toBe(0);
      expect(sampleValue(families, "mantrid_backend_sent_bytes_total", state)).toBe(5 * 612);
      expect(sampleValue(families, "mantrid_held_requests", { reason: "spin" })).toBe(2);
      expect(sampleValue(families, "mantrid_rules")).toBe(4);
      expect(sampleValue(families, "mantrid_rule_set_generation")).toBe(9);
      // One process, so no worker label.
      expect(samplesOf(families, "process_resident_memory_bytes")[0]!.labels).toEqual({});
    }
  });
});

// --- what a primary adds up -------------------------------------------------------

function plane(rules: Record<string, number>, open = 0, state = "up"): PlaneSnapshot {
  const counts = (n: number) => [n, n * 2];
  return {
    rules: Object.fromEntries(
      Object.entries(rules).map(([key, n]) => [key, { counts: counts(n), open }]),
    ),
    backends: {
      "b:1": { counts: counts(1), open, failures: 1, connectFailures: 1, state },
    },
    openConnections: 1,
    spinning: 0,
    waiting: 0,
    process: processWatch().snapshot(),
  };
}

describe("combine", () => {
  test("planes add up slot by slot; a backend's state counts the planes that see it so", () => {
    const view = combine([plane({ a: 1, b: 2 }, 1), plane({ a: 10 }, 2, "down")], []);
    expect(view.rules.get("a")).toEqual({ counts: [11, 22], open: 3 });
    expect(view.rules.get("b")).toEqual({ counts: [2, 4], open: 1 });
    expect(view.backends.get("b:1")).toMatchObject({
      counts: [2, 4],
      open: 3,
      failures: 2,
      connectFailures: 2,
      states: { up: 1, down: 1 },
    });
    expect(view.openConnections).toBe(2);
  });

  test("a fallen worker's counters stay in the totals, its gauges do not", () => {
    const fallen = new Fallen();
    fallen.add(plane({ a: 5 }, 4));
    const view = combineWorkers(
      processWatch().snapshot(),
      [
        ["1", plane({ a: 1 })],
        ["2", null],
      ],
      fallen,
    );
    expect(view.rules.get("a")).toEqual({ counts: [6, 12], open: 0 });
    expect(view.backends.get("b:1")).toMatchObject({ failures: 2, states: { up: 1 } });
    expect(view.processes.map((p) => p.worker)).toEqual(["primary", "1"]);
  });
});

describe("the process watch", () => {
  test("counts how late its timer fires, and the collections the runtime makes", async () => {
    const watch = processWatch();
    const count = (slots: number[]) => histogramCount(slots, 0, slots.length - 2);
    await waitFor(() => count(watch.snapshot().lag) > 0, "a lag sample");
    const before = watch.snapshot().gc;
    Bun.gc(true);
    const after = watch.snapshot();
    expect(count(after.gc.minor) + count(after.gc.major)).toBeGreaterThan(
      count(before.minor) + count(before.major),
    );
    expect(after.residentBytes).toBeGreaterThan(0);
    expect(after.openFds).toBeGreaterThan(0);
    expect(after.startTime).toBeLessThanOrEqual(Date.now() / 1000);
  });
});
