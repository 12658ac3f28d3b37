/** `--hosts N`: Mantrid with many hostnames. */
import type { BenchOptions } from "./options.ts";

export async function runHosts(_options: BenchOptions, _dir: string): Promise<number> {
  console.error("--hosts: not implemented yet");
  return 2;
}
