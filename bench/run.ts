/**
 * `bun run bench`: Mantrid against HAProxy and nginx (see bench/options.ts for
 * the flags). Everything runs in a temp folder that is removed at the end, and
 * every process started here is stopped, by PID, however the run ends.
 */
import { rmSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runFull } from "./full.ts";
import { runHosts } from "./hosts.ts";
import { runIdle } from "./idle.ts";
import { runMetricsCost } from "./metrics-cost.ts";
import { type BenchOptions, parseOptions, USAGE } from "./options.ts";
import { unexpectedExits } from "./peers.ts";
import { installSignalCleanup, isStopping, onCleanup, stopAll } from "./processes.ts";
import { runQuick } from "./quick.ts";
import { runTls } from "./tls.ts";

async function main(argv: string[]): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  installSignalCleanup();
  const dir = await mkdtemp(join(tmpdir(), "mantrid-bench-"));
  // nginx workers may run as another user; they read files in here.
  await chmod(dir, 0o755);
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  try {
    if (options.hosts !== undefined) return await runHosts(options, dir);
    if (options.idle !== undefined) return await runIdle(options, dir);
    if (options.metricsCost) return await runMetricsCost(options, dir);
    if (options.tls) return await runTls(options, dir);
    if (options.quick) return await runQuick(options, dir);
    return await runFull(options, dir);
  } catch (error) {
    if (!isStopping()) {
      console.error(`bench failed: ${(error as Error).message}`);
      for (const exit of unexpectedExits()) console.error(exit);
    }
    return 1;
  } finally {
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main(process.argv.slice(2));
