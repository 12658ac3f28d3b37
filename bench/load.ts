/** One load run against one target: wrk where it is installed, else the built-in loop. */
import { type Target, targetUrl } from "./check.ts";
import { cpuSecondsOf } from "./cpu-time.ts";
import { runBuiltinLoad } from "./loadgen.ts";
import type { BenchOptions } from "./options.ts";
import type { LoadResult, LoadSpec } from "./result.ts";
import type { Scenario } from "./scenarios.ts";
import { findWrk, runWrk } from "./wrk.ts";

export interface LoadTool {
  name: string;
  /** The result's `cpuPerRequestUs` is NaN: the tool does not know the target's processes. */
  run(spec: LoadSpec): Promise<LoadResult>;
}

/** One load run, with the CPU time `target`'s processes spent on it per request. */
export async function runAgainst(
  tool: LoadTool,
  target: Target,
  spec: LoadSpec,
): Promise<LoadResult> {
  const before = cpuSecondsOf(target.pid);
  const result = await tool.run(spec);
  const spent = cpuSecondsOf(target.pid) - before;
  const cpuPerRequestUs = result.requests > 0 ? (spent * 1e6) / result.requests : Number.NaN;
  return { ...result, cpuPerRequestUs };
}

export function chooseLoadTool(options: BenchOptions): LoadTool {
  const wrk = options.builtinLoad ? undefined : findWrk();
  if (wrk !== undefined) return { name: `wrk (${wrk})`, run: (spec) => runWrk(wrk, spec) };
  return { name: "built-in fetch loop", run: runBuiltinLoad };
}

export function loadSpec(
  target: Target,
  scenario: Scenario,
  host: string,
  options: BenchOptions,
  durationSeconds: number,
): LoadSpec {
  return {
    url: targetUrl(target, scenario),
    host,
    method: scenario.method,
    headers: scenario.headers,
    bodyBytes: scenario.bodyBytes,
    wrkScript: scenario.wrkScript,
    durationSeconds,
    threads: options.threads,
    connections: options.connections,
  };
}
