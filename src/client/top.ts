/**
 * `mantrid client top`: the busiest hosts, live. Every second it reads
 * `/stats/?active` (hosts with requests open or traffic in the last minute)
 * and redraws one table with plain ANSI codes (cursor home, clear line), so
 * it works in any terminal and over SSH. `q` or Ctrl-C leaves; `r`, `b`, `e`
 * and `l` sort by requests, bytes, errors or latency. With `--once`, or when
 * the output is no terminal, it prints the table once and exits.
 */
import type { StatsView } from "../management/stats-routes.ts";
import type { HostRates } from "../stats/rate-view.ts";
import { type CommandContext, defineClientCommand } from "./context.ts";
import { UsageError } from "./errors.ts";
import {
  CLEAR_BELOW,
  CLEAR_LINE,
  ENTER,
  HOME,
  LEAVE,
  type Screen,
  terminalScreen,
} from "./screen.ts";

export type SortKey = "req" | "bytes" | "errors" | "latency";

/** What each order ranks by (the last 10 s), and the key that picks it in the live view. */
const SORTS: Record<SortKey, { key: string; label: string; by(rates: HostRates): number }> = {
  req: { key: "r", label: "req/s", by: (r) => r.requests_per_second["10s"] },
  bytes: {
    key: "b",
    label: "bytes/s",
    by: (r) => r.bytes_sent_per_second["10s"] + r.bytes_received_per_second["10s"],
  },
  errors: { key: "e", label: "errors/s", by: (r) => r.errors_per_second["10s"] },
  // Hosts with no request ended in 10 s go last.
  latency: { key: "l", label: "latency", by: (r) => r.latency_ms["10s"] ?? -1 },
};
const SORT_NAMES = Object.keys(SORTS) as SortKey[];

export const REFRESH_MS = 1000;

/** Columns after HOST: REQ/S, 1s and 60s are requests per second over 10, 1 and 60 s. */
const COLUMNS = ["REQ/S", "1s", "60s", "OUT/S", "IN/S", "ERR/S", "AVG MS", "OPEN"];
const WIDTHS = [7, 7, 7, 7, 7, 6, 7, 5];
const NUMBERS_WIDTH = WIDTHS.reduce((sum, width) => sum + width + 1, 0);

/** One host's line of the table. */
export interface TopRow {
  host: string;
  open: number;
  rates: HostRates | undefined;
}

/** Hosts with traffic (open requests, or any rate over the last minute), busiest first. */
export function topRows(records: Record<string, StatsView>, sort: SortKey): TopRow[] {
  const rows: TopRow[] = [];
  for (const [host, record] of Object.entries(records)) {
    const rates = record.rates;
    if (record.open_requests > 0 || rates === undefined || moved(rates)) {
      rows.push({ host, open: record.open_requests, rates });
    }
  }
  const by = SORTS[sort].by;
  const value = (row: TopRow, of: (rates: HostRates) => number) =>
    row.rates === undefined ? 0 : of(row.rates);
  return rows.sort(
    (a, b) =>
      value(b, by) - value(a, by) ||
      value(b, SORTS.req.by) - value(a, SORTS.req.by) ||
      value(b, (r) => r.requests_per_second["60s"]) -
        value(a, (r) => r.requests_per_second["60s"]) ||
      (a.host < b.host ? -1 : a.host > b.host ? 1 : 0),
  );
}

function moved(rates: HostRates): boolean {
  return (
    rates.requests_per_second["60s"] > 0 ||
    rates.bytes_sent_per_second["60s"] > 0 ||
    rates.bytes_received_per_second["60s"] > 0 ||
    rates.errors_per_second["60s"] > 0
  );
}

/**
 * The table's lines: the header, then one host a line. With `width`, the
 * host column shrinks (names cut with `…`) so no line is longer.
 */
export function topTable(rows: readonly TopRow[], width?: number): string[] {
  const longest = rows.reduce((most, row) => Math.max(most, row.host.length), 4);
  const hostWidth =
    width === undefined ? longest : Math.max(4, Math.min(longest, width - NUMBERS_WIDTH));
  const line = (host: string, cells: string[]) => {
    const name = host.length > hostWidth ? `${host.slice(0, hostWidth - 1)}…` : host;
    const text = [name.padEnd(hostWidth), ...cells.map((cell, i) => cell.padStart(WIDTHS[i]!))];
    return text.join(" ");
  };
  return [line("HOST", COLUMNS), ...rows.map((row) => line(row.host, cells(row)))];
}

function cells(row: TopRow): string[] {
  const r = row.rates;
  if (r === undefined) return ["-", "-", "-", "-", "-", "-", "-", String(row.open)];
  return [
    amount(r.requests_per_second["10s"]),
    amount(r.requests_per_second["1s"]),
    amount(r.requests_per_second["60s"]),
    bytes(r.bytes_sent_per_second["10s"]),
    bytes(r.bytes_received_per_second["10s"]),
    amount(r.errors_per_second["10s"]),
    r.latency_ms["10s"] === null ? "-" : amount(r.latency_ms["10s"]),
    String(row.open),
  ];
}

/** Two decimals under 10, one under 100, none above. */
export function amount(value: number): string {
  if (value === 0) return "0";
  if (value < 10) return value.toFixed(2);
  if (value < 100) return value.toFixed(1);
  return String(Math.round(value));
}

/** Bytes with a binary unit: `512`, `1.5K`, `12.0M`, `153G`. */
export function bytes(value: number): string {
  const units = ["", "K", "M", "G", "T"];
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return String(Math.round(value));
  return `${value < 100 ? value.toFixed(1) : String(Math.round(value))}${units[unit]}`;
}

export interface TopOptions {
  sort?: string;
  once?: boolean;
}

/** `top`: one table, or the live view until `q`; a screen given by a test makes it live. */
export async function top(
  context: CommandContext,
  options: TopOptions,
  screen?: Screen,
): Promise<number> {
  const sort = sortArg(options.sort);
  const live = options.once !== true && !context.json && (screen !== undefined || context.terminal);
  if (!live) {
    const records = await read(context);
    if (!context.json) for (const line of topTable(topRows(records, sort))) context.print(line);
    return 0;
  }
  await liveView(context, screen ?? terminalScreen(), sort);
  return 0;
}

async function read(context: CommandContext): Promise<Record<string, StatsView>> {
  return (await context.call("GET", "/stats/?active")) as Record<string, StatsView>;
}

function sortArg(text: string | undefined): SortKey {
  if (text === undefined) return "req";
  if ((SORT_NAMES as string[]).includes(text)) return text as SortKey;
  throw new UsageError(`--sort takes req, bytes, errors or latency, not "${text}"`);
}

async function liveView(context: CommandContext, screen: Screen, first: SortKey): Promise<void> {
  let sort = first;
  let shown: Record<string, StatsView> | null = null;
  let problem: string | null = null;
  const { promise: quit, resolve: leave } = Promise.withResolvers<"quit">();

  const draw = () => {
    const lines = frame(shown, problem, sort, screen.columns, screen.rows);
    screen.write(
      `${HOME}${lines.map((line) => `${line}${CLEAR_LINE}`).join("\r\n")}${CLEAR_BELOW}`,
    );
  };
  const stop = screen.listen(
    (key) => {
      if (key === "q" || key === "Q" || key === "\x03") leave("quit");
      const picked = SORT_NAMES.find((name) => SORTS[name].key === key.toLowerCase());
      if (picked !== undefined) {
        sort = picked;
        draw();
      }
    },
    () => draw(),
  );
  screen.write(ENTER);
  try {
    for (;;) {
      const answer = await Promise.race([
        read(context).then(
          (records) => ({ records }),
          (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }),
        ),
        quit,
      ]);
      if (answer === "quit") return;
      if ("records" in answer) {
        shown = answer.records;
        problem = null;
      } else {
        problem = answer.error;
      }
      draw();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const next = new Promise<"next">((resolve) => {
        timer = setTimeout(() => resolve("next"), REFRESH_MS);
      });
      const why = await Promise.race([next, quit]);
      clearTimeout(timer);
      if (why === "quit") return;
    }
  } finally {
    stop();
    screen.write(LEAVE);
  }
}

/** The live view's lines: a title, the table cut to the screen, or why there is none. */
export function frame(
  records: Record<string, StatsView> | null,
  problem: string | null,
  sort: SortKey,
  columns: number,
  rows: number,
): string[] {
  const rowsOf = records === null ? [] : topRows(records, sort);
  const room = Math.max(1, rows - 3);
  const more = rowsOf.length > room ? `, ${rowsOf.length - room} not shown` : "";
  const clock = new Date().toTimeString().slice(0, 8);
  const title =
    `mantrid top  ${clock}  ${rowsOf.length} host${rowsOf.length === 1 ? "" : "s"}${more}` +
    `  by ${SORTS[sort].label}` +
    "  (r b e l: sort, q: quit)";
  const status =
    problem === null
      ? "rates per second over the last 10 s; req/s also over the last 1 s and 60 s"
      : `${records === null ? "" : "showing the last answer: "}${problem}`;
  const table = topTable(rowsOf.slice(0, room), columns);
  return [title, status, ...table].map((line) => line.slice(0, columns));
}

export const topCommand = defineClientCommand({
  description: "Show the busiest hosts live: requests, bytes, errors and latency per second",
  args: {
    sort: {
      type: "string",
      valueHint: SORT_NAMES.join("|"),
      description: "Order by req (the default), bytes, errors or latency, over the last 10 s",
    },
    once: {
      type: "boolean",
      description: "Print the table once and exit (so does output that is no terminal)",
    },
  },
  epilogue: [
    "Keys in the live view: r, b, e, l sort by req/s, bytes/s, errors/s, latency; q or Ctrl-C quits.",
    "REQ/S, OUT/S, IN/S, ERR/S and AVG MS are over the last 10 s; 1s and 60s are req/s over",
    "the last 1 and 60 s. Errors are 5xx answers and requests cut short; AVG MS is the mean time",
    "from a request's head to the end of its answer.",
  ].join("\n"),
  async run(args, context) {
    await top(context, { sort: args.sort, once: args.once });
  },
});
