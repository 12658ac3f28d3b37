/**
 * `--hosts N`: Mantrid with many hostnames. Three fresh Mantrids in turn:
 * a table of 10 rules and one of N rules, each loaded with one
 * `PUT /hostname/`, then N rules from a state file written before start.
 * For each: start and load time, RSS, state-file size, the time of one
 * single-rule PUT, and req/s for a hostname among the rules.
 */
import { statSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { checkTarget, type Target } from "./check.ts";
import { describeRun } from "./describe.ts";
import { hostName, ruleSetJson, stateFileJson } from "./host-set.ts";
import { formatHostsLines, formatHostsTable, type HostsRow } from "./hosts-table.ts";
import { chooseLoadTool, type LoadTool, loadSpec } from "./load.ts";
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
import { median } from "./result.ts";
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

function progress(text: string): void {
  process.stderr.write(`${text}\n`);
}

function fileSize(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}

/** Everything measured once the rules are in: memory, file, one PUT, load. */
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

  const host = hostName(Math.floor(row.rules / 2));
  const target: Target = { name: "mantrid", port: mantrid.port, pid: mantrid.pid };
  const scenario = scenarioNamed("keepalive-small");
  await checkTarget(target, scenario, host);
  row.load = await context.tool.run(
    loadSpec(target, scenario, host, context.options, context.options.durationSeconds),
  );
  progress(
    `${row.label}: ${row.load.requestsPerSecond.toFixed(0)} req/s for ${host}, ` +
      `RSS ${(row.rss / 2 ** 20).toFixed(0)} MiB`,
  );
}

/** A fresh Mantrid, then all `count` rules in one `PUT /hostname/`. */
async function viaApi(context: Context, count: number): Promise<HostsRow> {
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
      return row;
    }
    await measureLoaded(context, mantrid, join(context.dir, folder, "state.json"), row);
    return row;
  } finally {
    await mantrid.stop();
  }
}

/** The state file written first, then a fresh Mantrid that loads it as it starts. */
async function viaStateFile(context: Context, count: number): Promise<HostsRow> {
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
    return row;
  } finally {
    await mantrid.stop();
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

  const rows: HostsRow[] = [await viaApi(context, 10)];
  if (count !== 10) rows.push(await viaApi(context, count));
  rows.push(await viaStateFile(context, count));

  console.log("");
  console.log(formatHostsTable(rows));
  console.log("");
  console.log(formatHostsLines(rows));

  // A refused bulk PUT is a result; a Mantrid that does not serve its rules is a failure.
  const served = rows.every((row) => row.failure !== undefined || (row.load?.requests ?? 0) > 0);
  return served ? 0 : 1;
}
