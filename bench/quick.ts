/**
 * `--quick`: a few seconds, nothing but Bun and dist/mantrid. A Bun backend,
 * Mantrid with one rule, a check of every scenario through Mantrid, then one
 * short keep-alive load. Fails (non-zero) when Mantrid does not serve.
 */
import { checkTarget, type Target } from "./check.ts";
import { describeRun } from "./describe.ts";
import { chooseLoadTool, loadSpec, runAgainst } from "./load.ts";
import type { BenchOptions } from "./options.ts";
import { BENCH_HOST, proxyRule, putRule, startBunBackend, startMantrid } from "./peers.ts";
import { SCENARIOS, scenarioNamed } from "./scenarios.ts";
import { formatTable, summarize } from "./table.ts";

export async function runQuick(options: BenchOptions, dir: string): Promise<number> {
  const scenario = scenarioNamed(options.scenarios?.[0] ?? "keepalive-small");
  const tool = chooseLoadTool(options);
  const backend = await startBunBackend();
  const mantrid = await startMantrid(dir, { workers: options.workers });
  await putRule(mantrid.api, BENCH_HOST, proxyRule(backend.port));
  const target: Target = { name: "mantrid", port: mantrid.port, pid: mantrid.pid };

  const header = describeRun([], {
    mode: "quick (Bun backend, Mantrid only)",
    load: `${tool.name}, ${options.connections} connections, ${options.durationSeconds} s, ${scenario.name}`,
    mantrid: options.workers === undefined ? "default workers" : `--workers ${options.workers}`,
  });
  for (const each of SCENARIOS) await checkTarget(target, each, BENCH_HOST);

  const result = await runAgainst(
    tool,
    target,
    loadSpec(target, scenario, BENCH_HOST, options, options.durationSeconds),
  );
  console.log(header);
  console.log("");
  console.log(formatTable([summarize(scenario, "mantrid", [result])]));
  console.log("");

  if (result.requests === 0 || result.errors > 0) {
    console.log(`quick: FAILED: ${result.requests} requests served, ${result.errors} errors`);
    console.error(mantrid.log.text().slice(-4000));
    return 1;
  }
  if (!(result.cpuPerRequestUs > 0)) {
    console.log(`quick: FAILED: Mantrid's CPU time (pid ${mantrid.pid}) could not be read`);
    return 1;
  }
  console.log(`quick: ok, ${result.requests} requests through mantrid, 0 errors`);
  return 0;
}
