/**
 * `--metrics-cost`: what counting metrics costs each request. Two Mantrids in
 * front of the same backend, one with the default `metrics = true` and one
 * with `metrics = false`, take turns under the same keep-alive load, in
 * rounds whose order rotates. For each run, Mantrid's CPU time (user + system,
 * from /proc, every thread) over the requests it served: a figure that holds
 * even when the load generator shares the cores. The ratio is taken within
 * each round, so slow drift of the machine cancels out, then its median.
 * On a busy machine the rounds spread by more than the cost itself, so the
 * counting is also timed alone (counting-cost.ts) and set against the CPU
 * per request without metrics.
 */
import { checkTarget, type Target } from "./check.ts";
import { countingNanoseconds } from "./counting-cost.ts";
import { describeRun } from "./describe.ts";
import { chooseLoadTool, loadSpec, runAgainst } from "./load.ts";
import type { BenchOptions } from "./options.ts";
import {
  BENCH_HOST,
  findTool,
  proxyRule,
  putRule,
  startBunBackend,
  startMantrid,
  startNginxBackend,
} from "./peers.ts";
import { type LoadResult, median } from "./result.ts";
import { progress, rotate } from "./rounds.ts";
import { scenarioNamed } from "./scenarios.ts";
import { textTable } from "./text-table.ts";

const ON = "mantrid";
const OFF = "mantrid-no-metrics";

/** Median CPU µs per request and req/s of each, and the median of the rounds' on/off ratios. */
export interface MetricsCost {
  on: { cpuUs: number; requestsPerSecond: number };
  off: { cpuUs: number; requestsPerSecond: number };
  /** CPU per request with metrics over without, paired round by round. */
  ratio: number;
  /** The smallest and largest of the rounds' ratios. */
  ratioRange: [number, number];
  /** All CPU time over all requests of each, over all rounds: on over off. */
  overall: number;
}

type Round = { on: LoadResult; off: LoadResult };

export function summarizeCost(rounds: Round[]): MetricsCost {
  const ratios = rounds.map(({ on, off }) => on.cpuPerRequestUs / off.cpuPerRequestUs);
  const side = (pick: (round: Round) => LoadResult) => ({
    cpuUs: median(rounds.map((round) => pick(round).cpuPerRequestUs)),
    requestsPerSecond: median(rounds.map((round) => pick(round).requestsPerSecond)),
  });
  const perRequest = (pick: (round: Round) => LoadResult) => {
    let cpu = 0;
    let requests = 0;
    for (const round of rounds) {
      cpu += pick(round).cpuPerRequestUs * pick(round).requests;
      requests += pick(round).requests;
    }
    return cpu / requests;
  };
  return {
    on: side((round) => round.on),
    off: side((round) => round.off),
    ratio: median(ratios),
    ratioRange: [Math.min(...ratios), Math.max(...ratios)],
    overall: perRequest((round) => round.on) / perRequest((round) => round.off),
  };
}

export function formatCost(cost: MetricsCost, countingNs: number): string {
  const lines = [
    [ON, cost.on.requestsPerSecond.toFixed(0), cost.on.cpuUs.toFixed(2)],
    [OFF, cost.off.requestsPerSecond.toFixed(0), cost.off.cpuUs.toFixed(2)],
  ];
  const [low, high] = cost.ratioRange;
  return [
    ...textTable(["target", "req/s", "CPU µs/req"], lines),
    "",
    `metrics-cost cpu-on ${cost.on.cpuUs.toFixed(2)} cpu-off ${cost.off.cpuUs.toFixed(2)}` +
      ` ratio ${cost.ratio.toFixed(4)} (rounds ${low.toFixed(4)} to ${high.toFixed(4)},` +
      ` all rounds together ${cost.overall.toFixed(4)})`,
    `metrics-counting ${countingNs.toFixed(1)} ns per request,` +
      ` ${((countingNs / 1000 / cost.off.cpuUs) * 100).toFixed(2)} % of the CPU per request without metrics`,
  ].join("\n");
}

export async function runMetricsCost(options: BenchOptions, dir: string): Promise<number> {
  const scenario = scenarioNamed("keepalive-small");
  const tool = chooseLoadTool(options);
  const nginx = findTool("nginx") !== undefined;
  const backend = nginx ? await startNginxBackend(dir) : await startBunBackend();
  const targets: Target[] = [];
  for (const [name, metrics] of [
    [ON, true],
    [OFF, false],
  ] as const) {
    const mantrid = await startMantrid(dir, { workers: options.workers, folder: name, metrics });
    await putRule(mantrid.api, BENCH_HOST, proxyRule(backend.port));
    targets.push({ name, port: mantrid.port, pid: mantrid.pid });
  }
  console.log(
    describeRun(["wrk"], {
      mode: "--metrics-cost (metrics = true against metrics = false)",
      backend: nginx ? "nginx" : "Bun",
      load: `${tool.name}, -t${options.threads} -c${options.connections}, ${options.durationSeconds} s per run, ${options.rounds} rounds, ${scenario.name}`,
      mantrid: options.workers === undefined ? "default workers" : `--workers ${options.workers}`,
    }),
  );
  const spec = (target: Target, seconds: number) =>
    loadSpec(target, scenario, BENCH_HOST, options, seconds);
  for (const target of targets) {
    await checkTarget(target, scenario, BENCH_HOST);
    if (options.warmupSeconds > 0) await tool.run(spec(target, options.warmupSeconds));
  }

  const rounds: Round[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const results = new Map<string, LoadResult>();
    for (const target of rotate(targets, round)) {
      const result = await runAgainst(tool, target, spec(target, options.durationSeconds));
      results.set(target.name, result);
      progress(
        `round ${round + 1}/${options.rounds}  ${target.name.padEnd(18)}` +
          ` ${result.requestsPerSecond.toFixed(0).padStart(7)} req/s` +
          ` ${result.cpuPerRequestUs.toFixed(2).padStart(7)} µs/req` +
          (result.errors > 0 ? `  ${result.errors} errors` : ""),
      );
    }
    rounds.push({ on: results.get(ON)!, off: results.get(OFF)! });
  }

  // Timed here, after the load, when this process's loads are done.
  const countingNs = countingNanoseconds();
  console.log("");
  console.log(formatCost(summarizeCost(rounds), countingNs));
  const failed = rounds.some(
    ({ on, off }) => on.requests === 0 || off.requests === 0 || on.errors + off.errors > 0,
  );
  if (failed) {
    console.error("a Mantrid served no requests, or answered with errors, in some round");
    return 1;
  }
  return 0;
}
