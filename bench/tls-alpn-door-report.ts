/**
 * What bench/tls-alpn-door.ts prints: a table of each load against each
 * listener (medians over the rounds), then greppable lines of door over
 * native, each the median of the ratios taken within a round (the two ran
 * one after the other, so the machine's drift falls on both), with the
 * rounds' lowest and highest.
 */
import { type LoadResult, median } from "./result.ts";
import { textTable } from "./text-table.ts";

export const NATIVE = "native";
export const DOOR = "door";

/** Each scenario's runs, per listener, in round order. */
export type Runs = Map<string, { native: LoadResult[]; door: LoadResult[] }>;

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "-";
}

function table(runs: Runs): string[] {
  const lines: string[][] = [];
  for (const [scenario, { native, door }] of runs) {
    if (lines.length > 0) lines.push([]);
    for (const [target, results] of [
      [NATIVE, native],
      [DOOR, door],
    ] as const) {
      const perSecond = results.map((run) => run.requestsPerSecond);
      const middle = median(perSecond);
      const spread = ((Math.max(...perSecond) - Math.min(...perSecond)) / middle) * 100;
      lines.push([
        target === NATIVE ? scenario : "",
        target,
        fixed(middle, 0),
        results.length > 1 ? `${fixed(spread, 0)}%` : "-",
        `${fixed(median(results.map((run) => run.p50Ms)), 2)} ms`,
        `${fixed(median(results.map((run) => run.p99Ms)), 2)} ms`,
        `${fixed(median(results.map((run) => run.cpuPerRequestUs)), 1)} µs`,
        String(results.reduce((sum, run) => sum + run.errors, 0)),
      ]);
    }
  }
  return textTable(
    ["scenario", "listener", "req/s", "spread", "p50", "p99", "CPU/req", "errors"],
    lines,
    2,
  );
}

/** `<median> (rounds <low> to <high>)` of door over native, round by round. */
function paired(
  runs: { native: LoadResult[]; door: LoadResult[] },
  of: (run: LoadResult) => number,
) {
  const ratios = runs.door
    .map((run, round) => of(run) / of(runs.native[round]!))
    .filter(Number.isFinite);
  if (ratios.length === 0) return "-";
  const low = Math.min(...ratios).toFixed(2);
  const high = Math.max(...ratios).toFixed(2);
  return `${median(ratios).toFixed(2)} (rounds ${low} to ${high})`;
}

export function formatReport(
  runs: Runs,
  resumed: Map<string, { resumed: number; connections: number }>,
): string {
  const lines = [
    ...table(runs),
    "",
    "req/s, p50, p99, CPU/req: medians over the rounds; spread: (max - min) / median of req/s;",
    "CPU/req: user + system CPU time of the listener's process per request; errors: summed",
    "",
  ];
  for (const [scenario, results] of runs) {
    lines.push(
      `alpn-door ${scenario} req/s ${paired(results, (run) => run.requestsPerSecond)}` +
        ` cpu ${paired(results, (run) => run.cpuPerRequestUs)}`,
    );
  }
  for (const [key, { resumed: count, connections }] of resumed) {
    lines.push(`tls-resumed ${key} ${count} of ${connections}`);
  }
  return lines.join("\n");
}
