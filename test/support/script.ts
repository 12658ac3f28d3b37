/**
 * Runs a few lines of TypeScript in a fresh Bun process, for code that changes
 * the process it runs in (limits, user, environment, exec) and so must not run
 * in the test's own. `SRC` is the absolute path of src/, for the script's imports.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const SRC = resolve(import.meta.dir, "../../src");

export interface ScriptOptions {
  args?: string[];
  /** Added to the test's own environment; an undefined value removes the variable. */
  env?: Record<string, string | undefined>;
  /** Flags for Bun itself, before the script's path. */
  bunFlags?: string[];
}

export interface ScriptRun {
  code: number;
  pid: number;
  stdout: string;
  stderr: string;
  /** The script's path, as the child saw it. */
  path: string;
}

export async function runScript(source: string, options: ScriptOptions = {}): Promise<ScriptRun> {
  const folder = await mkdtemp(join(tmpdir(), "mantrid-script-"));
  const path = join(folder, "script.ts");
  await writeFile(path, source);
  try {
    const child = Bun.spawn(
      [process.execPath, ...(options.bunFlags ?? []), path, ...(options.args ?? [])],
      { env: withEnv(options.env ?? {}), stdin: "ignore", stdout: "pipe", stderr: "pipe" },
    );
    const [stdout, stderr, code] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    return { code, pid: child.pid, stdout, stderr, path };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/** The last line of a run's output, parsed: what the script reported. */
export function reported<T>(run: ScriptRun): T {
  if (run.code !== 0) throw new Error(`script exited ${run.code}: ${run.stderr}`);
  const lines = run.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]!) as T;
}

function withEnv(changes: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...process.env, ...changes })) {
    if (value !== undefined) env[name] = value;
  }
  return env;
}
