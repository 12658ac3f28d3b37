/**
 * `GET /metrics`: the families Mantrid exposes, from a view of its planes
 * (see snapshot.ts). Rules and backends carry the `rule` and `backend`
 * labels; process figures carry `worker` only when there are workers.
 *
 * Writing is cut into turns of the event loop (a few thousand lines each),
 * so a scrape of many rules with traffic never holds up the requests that
 * this process serves for long.
 */
import { VERSION } from "../../version.ts";
import { GC_BOUNDS, LAG_BOUNDS, LATENCY_BOUNDS } from "./buckets.ts";
import { Exposition, type Format, joinLabels, labels, type MetricType } from "./exposition.ts";
import {
  CODE_CLASSES,
  DURATION,
  HEAD,
  HELD,
  histogramCount,
  INCOMPLETE,
  RECEIVED,
  RETRIES,
  SENT,
} from "./layout.ts";
import type { ProcessSnapshot } from "./process.ts";
import type { BackendTotals, MetricsView, ProcessView, RuleTotals } from "./snapshot.ts";

/** What the management side knows beside the planes. */
export interface RuleSetFigures {
  rules: number;
  /** Grows by one each time the rule table changes. */
  generation: number;
}

/** Lines written between two turns of the event loop. */
const LINES_PER_TURN = 4000;

/** The exposition, as UTF-8 chunks. */
export async function renderMetrics(
  view: MetricsView,
  ruleSet: RuleSetFigures,
  format: Format,
): Promise<Uint8Array<ArrayBuffer>[]> {
  const out = new Exposition(format);
  for (const _ of families(out, view, ruleSet)) {
    if (out.pending < LINES_PER_TURN) continue;
    out.flush();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return out.bytes();
}

type Rows<T> = readonly (readonly [label: string, row: T])[];
/** A family with one sample per row: its name (or suffix), type, help and value. */
type Column<T> = readonly [string, MetricType, string, (row: T) => number];

const CODE_LABELS = CODE_CLASSES.map((code) => labels(["code", code]));
const STATES = ["up", "down", "draining", "disabled"].map((state) => [
  state,
  labels(["state", state]),
]);

const TRAFFIC: Column<RuleTotals>[] = [
  [
    "_incomplete_requests_total",
    "counter",
    "Requests whose answer did not go out whole (the client left, a response cut).",
    (row) => row.counts[INCOMPLETE]!,
  ],
  [
    "_received_bytes_total",
    "counter",
    "Bytes received from clients, counted when each request ends.",
    (row) => row.counts[RECEIVED]!,
  ],
  [
    "_sent_bytes_total",
    "counter",
    "Bytes sent to clients, counted when each request ends.",
    (row) => row.counts[SENT]!,
  ],
];

const RULES: Column<RuleTotals>[] = [
  [
    "mantrid_retries_total",
    "counter",
    "Connection attempts to backends beyond each request's first.",
    (rule) => rule.counts[RETRIES]!,
  ],
  [
    "mantrid_held_seconds_total",
    "counter",
    "Seconds requests were held: spinning, queued for a backend, or with all its backends down.",
    (rule) => rule.counts[HELD]!,
  ],
  ["mantrid_open_requests", "gauge", "Requests open now.", (rule) => rule.open],
];

const BACKENDS: Column<BackendTotals>[] = [
  [
    "mantrid_backend_open_requests",
    "gauge",
    "Requests in flight to the backend, and upgraded connections.",
    (backend) => backend.open,
  ],
  [
    "mantrid_backend_connect_failures_total",
    "counter",
    "Connections to the backend refused, failed, or not made within connect_timeout.",
    (backend) => backend.connectFailures,
  ],
  [
    "mantrid_backend_failures_total",
    "counter",
    "Failed attempts at the backend: connect failures, resets before a response head, statuses the rule counts as failures.",
    (backend) => backend.failures,
  ],
];

/** Every family in turn; yields after each row of a rule or backend. */
function* families(out: Exposition, view: MetricsView, ruleSet: RuleSetFigures): Generator {
  const rules = labelled("rule", view.rules);
  const backends = labelled("backend", view.backends);

  yield* traffic(out, "mantrid", rules, "by the rule that matched (`(none)`: none did)");
  for (const column of RULES) yield* each(out, column, rules);

  yield* traffic(out, "mantrid_backend", backends, "answered by the backend");
  for (const column of BACKENDS) yield* each(out, column, backends);
  const state = "1 for the state the backend is in (with workers: how many workers see it so).";
  yield* family(out, "mantrid_backend_state", "gauge", state, backends, (label, backend) => {
    for (const [name, stateLabel] of STATES) {
      out.sample("mantrid_backend_state", `${label},${stateLabel}`, backend.states[name!] ?? 0);
    }
  });

  one(out, "mantrid_open_connections", "Client connections open now.", view.openConnections);
  out.family(
    "mantrid_held_requests",
    "gauge",
    "Requests held now: spinning, or waiting for a backend.",
  );
  out.sample("mantrid_held_requests", labels(["reason", "spin"]), view.spinning);
  out.sample("mantrid_held_requests", labels(["reason", "backend"]), view.waiting);
  one(out, "mantrid_rules", "Rules in the rule table.", ruleSet.rules);
  const generation = "Changes applied to the rule table; grows by one with each.";
  one(out, "mantrid_rule_set_generation", generation, ruleSet.generation);
  out.family("mantrid_build_info", "gauge", "The running version of Mantrid.");
  out.sample("mantrid_build_info", labels(["version", VERSION]), 1);

  processes(out, view.processes);
}

/** Requests by status class, bytes and latency of each rule or backend. */
function* traffic(out: Exposition, prefix: string, rows: Rows<RuleTotals>, which: string) {
  const requests = `${prefix}_requests_total`;
  const help = `Requests that ended, ${which}, by the class of the status sent (\`other\`: none was).`;
  yield* family(out, requests, "counter", help, rows, (label, row) => {
    for (let i = 0; i < CODE_LABELS.length; i++) {
      const value = row.counts[i]!;
      if (value > 0) out.sample(requests, `${label},${CODE_LABELS[i]}`, value);
    }
  });
  for (const [suffix, type, about, value] of TRAFFIC) {
    yield* each(out, [prefix + suffix, type, about, value], rows);
  }
  const duration = "From a request's head to the end of its answer (upgrades left out).";
  yield* histograms(out, `${prefix}_request_duration_seconds`, duration, rows, DURATION);
  const head = "From sending a request to a backend to its response head.";
  yield* histograms(out, `${prefix}_response_head_seconds`, head, rows, HEAD);
}

/** A latency histogram for each row that has counted something in it. */
function histograms(
  out: Exposition,
  name: string,
  help: string,
  rows: Rows<RuleTotals>,
  at: number,
): Generator {
  return family(out, name, "histogram", help, rows, (label, row) => {
    if (histogramCount(row.counts, at, LATENCY_BOUNDS.length) === 0) return;
    out.histogram(name, label, row.counts, at, LATENCY_BOUNDS);
  });
}

function each<T>(out: Exposition, [name, type, help, value]: Column<T>, rows: Rows<T>): Generator {
  return family(out, name, type, help, rows, (label, row) => out.sample(name, label, value(row)));
}

function* family<T>(
  out: Exposition,
  name: string,
  type: MetricType,
  help: string,
  rows: Rows<T>,
  write: (label: string, row: T) => void,
): Generator {
  out.family(name, type, help);
  for (const [label, row] of rows) {
    write(label, row);
    yield;
  }
}

function one(out: Exposition, name: string, help: string, value: number): void {
  out.family(name, "gauge", help);
  out.sample(name, "", value);
}

/** Each process's own figures; with workers, each under its `worker` label. */
function processes(out: Exposition, views: readonly ProcessView[]): void {
  const rows = views.map(
    ({ worker, process }) => [worker === null ? "" : labels(["worker", worker]), process] as const,
  );
  const gauges: [string, string, (p: ProcessSnapshot) => number | null][] = [
    [
      "process_start_time_seconds",
      "Start time of the process, in seconds since the epoch.",
      (p) => p.startTime,
    ],
    ["mantrid_uptime_seconds", "Seconds since the process started.", (p) => p.uptime],
    ["process_resident_memory_bytes", "Resident memory size in bytes.", (p) => p.residentBytes],
    [
      "process_cpu_seconds_total",
      "User and system CPU time spent, in seconds.",
      (p) => p.cpuSeconds,
    ],
    ["process_open_fds", "Open file descriptors.", (p) => p.openFds],
    ["process_max_fds", "The most file descriptors the process may open.", (p) => p.maxFds],
  ];
  for (const [name, help, value] of gauges) {
    out.family(name, name.endsWith("_total") ? "counter" : "gauge", help);
    for (const [label, process] of rows) {
      const figure = value(process);
      if (figure !== null) out.sample(name, label, figure);
    }
  }
  const lag = "mantrid_event_loop_lag_seconds";
  out.family(
    lag,
    "histogram",
    "How late a timer due every 100 ms fires: the event loop was busy, or paused.",
  );
  for (const [label, process] of rows) out.histogram(lag, label, process.lag, 0, LAG_BOUNDS);
  const gc = "mantrid_gc_duration_seconds";
  const gcHelp =
    "Garbage collections, by kind (minor: young objects only), as the runtime times them.";
  out.family(gc, "histogram", gcHelp);
  for (const [label, process] of rows) {
    out.histogram(gc, joinLabels(labels(["kind", "minor"]), label), process.gc.minor, 0, GC_BOUNDS);
    out.histogram(gc, joinLabels(labels(["kind", "major"]), label), process.gc.major, 0, GC_BOUNDS);
  }
}

function labelled<T>(name: string, rows: ReadonlyMap<string, T>): Rows<T> {
  return Array.from(rows, ([key, row]) => [labels([name, key]), row] as const);
}
