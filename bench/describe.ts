/** The lines above a table: machine, versions and settings, so results can be compared. */
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { BINARY, findTool } from "./peers.ts";

function firstLine(argv: string[]): string | undefined {
  try {
    const run = Bun.spawnSync(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const text = `${run.stdout.toString()}${run.stderr.toString()}`.trim();
    return text.split("\n")[0]?.trim();
  } catch {
    return undefined;
  }
}

function version(tool: string, flag: string): string | undefined {
  const path = findTool(tool);
  return path === undefined ? undefined : firstLine([path, flag]);
}

function memoryTotal(): string {
  try {
    const kib = Number(/MemTotal:\s+(\d+)/.exec(readFileSync("/proc/meminfo", "utf8"))?.[1]);
    return `${(kib / 2 ** 20).toFixed(1)} GiB`;
  } catch {
    return "?";
  }
}

/** `# key: value` lines. */
export function describeRun(tools: string[], settings: Record<string, string>): string {
  const lines = [
    `# date: ${new Date().toISOString()}`,
    `# machine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${memoryTotal()} memory`,
    `# bun: ${Bun.version}`,
    `# mantrid: ${firstLine([BINARY, "--version"]) ?? "?"} (${BINARY})`,
  ];
  const flags: Record<string, string> = { haproxy: "-v", nginx: "-v", wrk: "-v" };
  for (const tool of tools) {
    lines.push(`# ${tool}: ${version(tool, flags[tool] ?? "--version") ?? "not installed"}`);
  }
  for (const [key, value] of Object.entries(settings)) lines.push(`# ${key}: ${value}`);
  return lines.join("\n");
}
