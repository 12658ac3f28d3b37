/**
 * The full run: an nginx backend, reached directly and through HAProxy, nginx
 * and Mantrid; every scenario against every target, in rounds whose target
 * order rotates, so slow drift of the machine falls on all targets alike.
 */
import { checkTarget, type Target } from "./check.ts";
import { describeRun } from "./describe.ts";
import { chooseLoadTool, type LoadTool, loadSpec, runAgainst } from "./load.ts";
import type { BenchOptions } from "./options.ts";
import {
  BENCH_HOST,
  balancedRule,
  type Peer,
  proxyRule,
  putRule,
  startBunPipe,
  startHaproxy,
  startMantrid,
  startNginxBackend,
  startNginxProxy,
} from "./peers.ts";
import { freePort } from "./ports.ts";
import type { LoadResult } from "./result.ts";
import { progress, rotate } from "./rounds.ts";
import { SCENARIOS, type Scenario, scenarioNamed } from "./scenarios.ts";
import { BALANCED, formatRatioLines, formatTable, type Row, summarize } from "./table.ts";

export const TARGETS = ["direct", "haproxy", "nginx", "mantrid"] as const;
/**
 * Measured only when asked for with --targets: the bare Bun pipe, a yardstick;
 * and a Mantrid whose rule balances over four backends with health checks.
 */
const EXTRA_TARGETS = ["bun-pipe", BALANCED] as const;

function pickTargets(options: BenchOptions): string[] {
  const known: string[] = [...TARGETS, ...EXTRA_TARGETS];
  const wanted = options.targets ?? [...TARGETS];
  for (const name of wanted) {
    if (!known.includes(name)) {
      throw new Error(`unknown target "${name}" (known: ${known.join(", ")})`);
    }
  }
  return known.filter((name) => wanted.includes(name));
}

export function pickScenarios(options: BenchOptions): Scenario[] {
  return options.scenarios?.map(scenarioNamed) ?? SCENARIOS;
}

/** Starts the backend and the wanted proxies; Mantrid gets its one rule. */
async function startTargets(names: string[], dir: string, options: BenchOptions) {
  // Four ports of one nginx: four backends to balance over, all equally fast.
  const extraPorts = names.includes(BALANCED) ? [freePort(), freePort(), freePort()] : [];
  const backend = await startNginxBackend(dir, extraPorts);
  const targets: Target[] = [];
  for (const name of names) {
    let peer: Peer = backend;
    if (name === "haproxy") peer = await startHaproxy(dir, backend.port);
    if (name === "nginx") peer = await startNginxProxy(dir, backend.port);
    if (name === "bun-pipe") peer = await startBunPipe(backend.port);
    if (name === "mantrid") {
      const mantrid = await startMantrid(dir, { workers: options.workers });
      await putRule(mantrid.api, BENCH_HOST, proxyRule(backend.port));
      peer = mantrid;
    }
    if (name === BALANCED) {
      const mantrid = await startMantrid(dir, { workers: options.workers, folder: BALANCED });
      await putRule(mantrid.api, BENCH_HOST, balancedRule([backend.port, ...extraPorts]));
      peer = mantrid;
    }
    targets.push({ name, port: peer.port, pid: peer.pid });
  }
  return targets;
}

async function measure(
  tool: LoadTool,
  target: Target,
  scenario: Scenario,
  options: BenchOptions,
  seconds: number,
): Promise<LoadResult> {
  return runAgainst(tool, target, loadSpec(target, scenario, BENCH_HOST, options, seconds));
}

export async function runFull(options: BenchOptions, dir: string): Promise<number> {
  const names = pickTargets(options);
  const scenarios = pickScenarios(options);
  const tool = chooseLoadTool(options);
  const targets = await startTargets(names, dir, options);

  const header = describeRun(["haproxy", "nginx", "wrk"], {
    load: `${tool.name}, -t${options.threads} -c${options.connections}, ${options.durationSeconds} s per run, ${options.rounds} rounds (median), ${options.warmupSeconds} s warm-up`,
    mantrid: options.workers === undefined ? "default workers" : `--workers ${options.workers}`,
    targets: targets.map((t) => `${t.name} :${t.port}`).join(", "),
  });
  console.log(header);

  for (const target of targets) {
    for (const scenario of scenarios) await checkTarget(target, scenario, BENCH_HOST);
  }
  progress("# every target answers every scenario correctly");

  if (options.warmupSeconds > 0) {
    for (const scenario of scenarios) {
      for (const target of targets) {
        await measure(tool, target, scenario, options, options.warmupSeconds);
      }
    }
  }

  const runs = new Map<string, LoadResult[]>();
  for (let round = 0; round < options.rounds; round++) {
    for (const scenario of scenarios) {
      for (const target of rotate(targets, round)) {
        const result = await measure(tool, target, scenario, options, options.durationSeconds);
        const key = `${scenario.name} ${target.name}`;
        runs.set(key, [...(runs.get(key) ?? []), result]);
        progress(
          `round ${round + 1}/${options.rounds}  ${scenario.name.padEnd(16)} ${target.name.padEnd(8)}` +
            ` ${result.requestsPerSecond.toFixed(0).padStart(7)} req/s` +
            (result.errors > 0 ? `  ${result.errors} errors` : ""),
        );
      }
    }
  }

  const rows: Row[] = [];
  for (const scenario of scenarios) {
    for (const target of targets) {
      rows.push(
        summarize(scenario, target.name, runs.get(`${scenario.name} ${target.name}`) ?? []),
      );
    }
  }
  console.log("");
  console.log(formatTable(rows));
  console.log("");
  const ratioLines = formatRatioLines(rows);
  if (ratioLines !== "") console.log(ratioLines);

  const mantridIdle = rows.some((row) => row.target === "mantrid" && !(row.requestsPerSecond > 0));
  if (mantridIdle) {
    console.error("mantrid served no requests in at least one scenario");
    return 1;
  }
  return 0;
}
