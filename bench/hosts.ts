/**
 * `--hosts N`: Mantrid with many hostnames. Three fresh Mantrids: a table
 * of 10 rules and one of N rules, each loaded with one `PUT /hostname/`, then
 * N rules from a state file written before start. For each: start and load
 * time, RSS, state-file size and the time of one single-rule PUT; then req/s
 * for a hostname among the rules, in rounds that take the three in turn (as
 * the full run takes its targets), keeping the median run.
 */
import { statSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { checkTarget, type Target } from "./check.ts";
import { describeRun } from "./describe.ts";
import { hostName, ruleSetJson, stateFileJson } from "./host-set.ts";
import { formatHostsLines, formatHostsTable, type HostsRow } from "./hosts-table.ts";
import { chooseLoadTool, type LoadTool, loadSpec, runAgainst } from "./load.ts";
import type { BenchOptions } from "./options.ts";
import {
  findTool,
  type MantridPeer,
  proxyRule,
  putRule,
  startBunBackend,
  startMantrid,
  startNginxBackend,
} from "./peers.ts";
import { type LoadResult, median, medianRun } from "./result.ts";
import { progress, rotate } from "./rounds.ts";
import { memoryOf } from "./rss.ts";
import { scenarioNamed } from "./scenarios.ts";

/** Up to this long for one start or one PUT of a big rule set. */
const SLOW_MS = 15 * 60 * 1000;

interface Context {
  options: BenchOptions;
  dir: string;
  rule: unknown;
  tool: LoadTool;
}

function fileSize(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}

/** A Mantrid with its rules in, kept running for the load rounds. */
interface Loaded {
  row: HostsRow;
  mantrid: MantridPeer;
}

/** Everything measured once the rules are in, but the load: memory, file, one PUT. */
async function measureLoaded(
  context: Context,
  mantrid: MantridPeer,
  stateFile: string,
  row: HostsRow,
): Promise<void> {
  const memory = memoryOf(mantrid.pid);
  row.rss = memory.rss;
  row.peak = memory.peak;
  row.stateBytes = fileSize(stateFile);

  const puts: number[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    const started = performance.now();
    await putRule(mantrid.api, `extra${attempt}.bench.test`, context.rule);
    puts.push(performance.now() - started);
  }
  row.putMs = median(puts);
  progress(`${row.label}: RSS ${(row.rss / 2 ** 20).toFixed(0)} MiB`);
}

/** keepalive-small to the middle hostname of each, in rotating order; the median run is kept. */
async function loadRounds(context: Context, all: Loaded[]): Promise<void> {
  const { options, tool } = context;
  const scenario = scenarioNamed("keepalive-small");
  const runs = new Map<Loaded, LoadResult[]>();
  const target = ({ mantrid }: Loaded): Target => ({
    name: "mantrid",
    port: mantrid.port,
    pid: mantrid.pid,
  });
  const host = ({ row }: Loaded) => hostName(Math.floor(row.rules / 2));
  const spec = (loaded: Loaded, seconds: number) =>
    loadSpec(target(loaded), scenario, host(loaded), options, seconds);
  for (const loaded of all) {
    await checkTarget(target(loaded), scenario, host(loaded));
    if (options.warmupSeconds > 0) await tool.run(spec(loaded, options.warmupSeconds));
  }
  for (let round = 0; round < options.rounds; round++) {
    for (const loaded of rotate(all, round)) {
      const result = await runAgainst(tool, target(loaded), spec(loaded, options.durationSeconds));
      runs.set(loaded, [...(runs.get(loaded) ?? []), result]);
      progress(
        `round ${round + 1}/${options.rounds}  ${loaded.row.label.padEnd(28)}` +
          ` ${result.requestsPerSecond.toFixed(0).padStart(7)} req/s`,
      );
    }
  }
  for (const loaded of all) loaded.row.load = medianRun(runs.get(loaded) ?? []);
}

/** A fresh Mantrid, then all `count` rules in one `PUT /hostname/`. */
async function viaApi(context: Context, count: number): Promise<Loaded> {
  const row: HostsRow = { label: `${count} via PUT /hostname/`, rules: count, loadedBy: "api" };
  const folder = `api-${count}`;
  const body = ruleSetJson(count, context.rule);
  row.requestBytes = body.length;
  const spawned = performance.now();
  const mantrid = await startMantrid(context.dir, {
    workers: context.options.workers,
    folder,
  });
  row.startSeconds = (performance.now() - spawned) / 1000;
  const loaded = { row, mantrid };
  try {
    const started = performance.now();
    let failure: string | undefined;
    try {
      const response = await fetch(`${mantrid.api}/hostname/`, {
        method: "PUT",
        body,
        signal: AbortSignal.timeout(SLOW_MS),
      });
      const text = await response.text();
      if (!response.ok || !text.includes('"ok":true')) {
        failure = `PUT /hostname/ answered ${response.status}: ${text.slice(0, 200)}`;
      }
    } catch (error) {
      failure = `PUT /hostname/ failed: ${(error as Error).message}`;
    }
    row.loadSeconds = (performance.now() - started) / 1000;
    progress(`${row.label}: ${failure ?? `loaded in ${row.loadSeconds.toFixed(2)} s`}`);
    if (failure !== undefined) {
      row.failure = failure;
      const memory = memoryOf(mantrid.pid);
      row.rss = memory.rss;
      row.peak = memory.peak;
    } else {
      await measureLoaded(context, mantrid, join(context.dir, folder, "state.json"), row);
    }
    return loaded;
  } catch (error) {
    await mantrid.stop();
    throw error;
  }
}

/** The state file written first, then a fresh Mantrid that loads it as it starts. */
async function viaStateFile(context: Context, count: number): Promise<Loaded> {
  const row: HostsRow = {
    label: `${count} from the state file`,
    rules: count,
    loadedBy: "state-file",
  };
  const folder = `file-${count}`;
  const stateFile = join(context.dir, folder, "state.json");
  await mkdir(join(context.dir, folder), { recursive: true });
  await writeFile(stateFile, stateFileJson(ruleSetJson(count, context.rule)));
  const spawned = performance.now();
  const mantrid = await startMantrid(context.dir, {
    workers: context.options.workers,
    folder,
    stateFile,
    startTimeoutMs: SLOW_MS,
  });
  row.startSeconds = (performance.now() - spawned) / 1000;
  row.loadSeconds = row.startSeconds;
  progress(`${row.label}: started in ${row.startSeconds.toFixed(2)} s`);
  try {
    await measureLoaded(context, mantrid, stateFile, row);
    return { row, mantrid };
  } catch (error) {
    await mantrid.stop();
    throw error;
  }
}

export async function runHosts(options: BenchOptions, dir: string): Promise<number> {
  const count = options.hosts!;
  const tool = chooseLoadTool(options);
  const backend =
    findTool("nginx") !== undefined ? await startNginxBackend(dir) : await startBunBackend();
  const context: Context = { options, dir, rule: proxyRule(backend.port), tool };

  console.log(
    describeRun(["wrk"], {
      mode: `--hosts ${count}`,
      backend: findTool("nginx") !== undefined ? "nginx" : "Bun",
      load: `${tool.name}, -t${options.threads} -c${options.connections}, ${options.durationSeconds} s, keepalive-small to the middle hostname`,
      mantrid: options.workers === undefined ? "default workers" : `--workers ${options.workers}`,
    }),
  );

  const all: Loaded[] = [];
  try {
    all.push(await viaApi(context, 10));
    if (count !== 10) all.push(await viaApi(context, count));
    all.push(await viaStateFile(context, count));
    await loadRounds(
      context,
      all.filter(({ row }) => row.failure === undefined),
    );
  } finally {
    for (const { mantrid } of all) await mantrid.stop();
  }
  const rows = all.map(({ row }) => row);

  console.log("");
  console.log(formatHostsTable(rows));
  console.log("");
  console.log(formatHostsLines(rows));

  // A refused bulk PUT is a result; a Mantrid that does not serve its rules is a failure.
  const served = rows.every((row) => row.failure !== undefined || (row.load?.requests ?? 0) > 0);
  return served ? 0 : 1;
}
