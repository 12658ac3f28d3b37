/// <reference lib="dom" />
/**
 * The dashboard page's script (runs in the browser; served transpiled). It
 * reads one Server-Sent Events stream, `/dashboard/stream`, with `fetch`, so
 * the token travels in the `Authorization` header as for every other route,
 * never in a URL. The token comes from this tab's session storage or the form.
 *
 * Why this file is long: the browser gets it as one transpiled script with no
 * module loader, so it cannot import code of its own; only types come in.
 */
import type UPlot from "uplot";
import type { BackendRow, Hello, HostRow, Sample, Totals } from "./sample.ts";

declare const uPlot: typeof UPlot;

const TOKEN_KEY = "mantrid-token";
const RETRY_MS = 2000;
const HISTORY = 300;
const CHART_HEIGHT = 180;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $("status");
const login = $<HTMLFormElement>("login");
const main = $("main");

let history: Totals[] = [];
const charts: Record<"requests" | "bytes" | "errors", UPlot | null> = {
  requests: null,
  bytes: null,
  errors: null,
};
// Read by the browser test, and handy from the console.
(window as unknown as { mantrid: unknown }).mantrid = { charts };

function setStatus(state: string, text: string): void {
  status.dataset.state = state;
  status.textContent = text;
}

function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

function askToken(refused: boolean): void {
  main.hidden = true;
  login.hidden = false;
  $("login-error").hidden = !refused;
  setStatus("refused", "token required");
  $<HTMLInputElement>("token").focus();
}

login.addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $<HTMLInputElement>("token");
  sessionStorage.setItem(TOKEN_KEY, input.value.trim());
  input.value = "";
  login.hidden = true;
  connect();
});

/** Runs the stream until it ends; "refused" when the token was not accepted. */
async function stream(token: string | null): Promise<"refused" | "ended"> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const response = await fetch("/dashboard/stream", { headers, cache: "no-store" });
  if (response.status === 401) return "refused";
  if (!response.ok || response.body === null) throw new Error(`HTTP ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return "ended";
    buffer += value;
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      dispatch(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf("\n\n");
    }
  }
}

/** One event: `event:` names it, its `data:` lines hold JSON. */
function dispatch(block: string): void {
  let event = "message";
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  if (data.length === 0) return;
  const value = JSON.parse(data.join("\n"));
  if (event === "hello") hello(value as Hello);
  else if (event === "sample") sample(value as Sample);
}

function connect(): void {
  const token = storedToken();
  if (document.body.dataset.token === "required" && !token) return askToken(false);
  setStatus("connecting", "connecting…");
  stream(token).then(
    (end) => {
      if (end === "refused") {
        sessionStorage.removeItem(TOKEN_KEY);
        return askToken(token !== null);
      }
      retry();
    },
    () => retry(),
  );
}

function retry(): void {
  setStatus("lost", "connection lost, retrying…");
  setTimeout(connect, RETRY_MS);
}

function hello(message: Hello): void {
  history = message.history.slice(-HISTORY);
  $("errors-note").hidden = message.errors && message.p99;
  // A server always counts errors; p99 needs its metrics (`metrics = false` turns them off).
  $("errors-note").textContent = message.errors ? "p99 off: metrics = false" : "not counted here";
  login.hidden = true;
  main.hidden = false;
  setStatus("live", "live");
  makeCharts();
}

function sample(message: Sample): void {
  history.push(message.totals);
  if (history.length > HISTORY) history.splice(0, history.length - HISTORY);
  updateCharts();
  renderRules(message);
  renderBackends(message.backends);
  const t = message.totals;
  $("summary").textContent =
    `${count(message.hostCount)} hostnames · ${rate(t.rps)} req/s · ` +
    `${bytes(t.sent)}/s out · ${bytes(t.received)}/s in`;
}

// Charts: the last five minutes of totals.

function series(label: string, stroke: string, scale?: string): UPlot.Series {
  return { label, stroke, width: 2, ...(scale ? { scale } : {}), spanGaps: false };
}

function fromZero(_u: UPlot, _min: number, max: number): UPlot.Range.MinMax {
  return [0, max > 0 ? max * 1.1 : 1];
}

function makeChart(id: keyof typeof charts, lines: UPlot.Series[], axes: UPlot.Axis[]): void {
  const element = $(`chart-${id}`);
  charts[id]?.destroy();
  const options: UPlot.Options = {
    width: element.clientWidth || 400,
    height: CHART_HEIGHT,
    // Counts and times start at zero, so a flat line reads as flat.
    scales: { x: { time: true }, y: { range: fromZero }, ms: { range: fromZero } },
    series: [{}, ...lines],
    axes: [{}, ...axes],
    legend: { live: true },
  };
  charts[id] = new uPlot(options, chartData(id), element);
}

function makeCharts(): void {
  const left = (values: (n: number) => string): UPlot.Axis => ({
    size: 80,
    values: (_u, ticks) => ticks.map(values),
  });
  makeChart("requests", [series("req/s", "#2563eb")], [left(rate)]);
  makeChart("bytes", [series("sent/s", "#7c3aed"), series("received/s", "#0d9488")], [left(bytes)]);
  makeChart(
    "errors",
    [series("errors/s", "#dc2626"), series("p99", "#d97706", "ms")],
    [left(rate), { ...left(ms), scale: "ms", side: 1, grid: { show: false } }],
  );
}

function chartData(id: keyof typeof charts): UPlot.AlignedData {
  const t = history.map((point) => point.t);
  switch (id) {
    case "requests":
      return [t, history.map((p) => p.rps)];
    case "bytes":
      return [t, history.map((p) => p.sent), history.map((p) => p.received)];
    case "errors":
      return [t, history.map((p) => p.errors), history.map((p) => p.p99)];
  }
}

function updateCharts(): void {
  for (const id of Object.keys(charts) as (keyof typeof charts)[]) {
    charts[id]?.setData(chartData(id));
  }
}

window.addEventListener("resize", () => {
  for (const id of Object.keys(charts) as (keyof typeof charts)[]) {
    const element = $(`chart-${id}`);
    charts[id]?.setSize({ width: element.clientWidth, height: CHART_HEIGHT });
  }
});

// Tables: built from text nodes only, whatever a rule holds.

function cell(text: string, className?: string): HTMLTableCellElement {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function row(cells: HTMLTableCellElement[]): HTMLTableRowElement {
  const tr = document.createElement("tr");
  tr.append(...cells);
  return tr;
}

function emptyRow(columns: number, text: string): HTMLTableRowElement {
  const td = cell(text, "empty");
  td.colSpan = columns;
  return row([td]);
}

function target(host: HostRow): string {
  if (host.rule === null) return "(rule deleted)";
  const [action, options] = host.rule;
  if (action === "proxy" && Array.isArray(options.backends)) {
    return options.backends
      .map((b) =>
        Array.isArray(b) ? `${b[0]}:${b[1]}` : String((b as { address: string }).address),
      )
      .join(", ");
  }
  const text = JSON.stringify(options);
  return text === "{}" ? "" : text;
}

function renderRules(message: Sample): void {
  const body = $("rules").querySelector("tbody")!;
  const rows = message.hosts.map((host) =>
    row([
      cell(host.host + (host.rule?.[2] ? " (and subdomains)" : "")),
      cell(host.rule?.[0] ?? "–"),
      cell(target(host), "target"),
      cell(count(host.open), "num"),
      cell(rate(host.rps), "num"),
      cell(`${bytes(host.sent)}/s`, "num"),
      cell(`${bytes(host.received)}/s`, "num"),
      cell(host.errors === null ? "–" : rate(host.errors), "num"),
      cell(host.p99 === null ? "–" : ms(host.p99), "num"),
    ]),
  );
  body.replaceChildren(...(rows.length > 0 ? rows : [emptyRow(9, "No rules yet.")]));
  const shown = message.hosts.length;
  $("rules-count").textContent =
    message.hostCount > shown
      ? `the ${shown} busiest of ${count(message.hostCount)}`
      : `${count(message.hostCount)}`;
}

function renderBackends(backends: BackendRow[]): void {
  const body = $("backends").querySelector("tbody")!;
  const rows = backends.map((backend) => {
    const check = backend.check;
    const checkText =
      check === null
        ? "–"
        : `${check.ok ? "passed" : "failed"}${check.status ? ` (${check.status})` : ""}, ` +
          `${ms(check.ms)}${check.error ? `: ${check.error}` : ""}`;
    return row([
      cell(backend.address),
      cell(backend.state, `state-${backend.state}`),
      cell(checkText),
      cell(count(backend.active), "num"),
      cell(count(backend.requests), "num"),
      cell(count(backend.failures), "num"),
      cell(backend.rules.join(", "), "target"),
    ]);
  });
  body.replaceChildren(...(rows.length > 0 ? rows : [emptyRow(7, "No proxy rules shown.")]));
}

// Numbers as people read them.

function count(n: number): string {
  return Math.round(n).toLocaleString("en");
}

function rate(n: number): string {
  return n < 10 && !Number.isInteger(n) ? n.toFixed(1) : count(n);
}

function bytes(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i === 0 || Number.isInteger(n) ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
}

function ms(n: number): string {
  if (n >= 1000) return `${(n / 1000).toFixed(2)} s`;
  if (n >= 10 || Number.isInteger(n)) return `${Math.round(n)} ms`;
  return `${n < 1 ? n.toFixed(2) : n.toFixed(1)} ms`;
}

connect();
