/** One load run against one target: wrk where it is installed, else the built-in loop. */
import { type Target, targetUrl } from "./check.ts";
import { runBuiltinLoad } from "./loadgen.ts";
import type { BenchOptions } from "./options.ts";
import type { LoadResult, LoadSpec } from "./result.ts";
import type { Scenario } from "./scenarios.ts";
import { findWrk, runWrk } from "./wrk.ts";

export interface LoadTool {
  name: string;
  run(spec: LoadSpec): Promise<LoadResult>;
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
