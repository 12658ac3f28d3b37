/**
 * Mantrid processes for takeover tests: started from a given binary, their log
 * watched, and every one of them killed when the test file ends, those started
 * by a server itself (SIGUSR2, SIGHUP) too.
 */
import { copyFile, rename } from "node:fs/promises";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { ensureBinary, watchLog } from "../support/binary.ts";

export interface Server {
  process: Subprocess<"ignore", "ignore", "pipe">;
  pid: number;
  log(): string;
  /** Resolves with the first match once the pattern appears in the log. */
  match(pattern: RegExp): Promise<RegExpMatchArray>;
  exited: Promise<number>;
}

const pids = new Set<number>();
process.on("exit", () => {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
});

/** Kills whatever is left of a test's processes. */
export function killAll(): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
  pids.clear();
}

/** Remembers a pid a server started, so that it is killed at the end too. */
export function track(pid: number): void {
  pids.add(pid);
}

/** Starts `binary` with `args`; resolves once it logs `ready` (or exits). */
export async function launch(binary: string, args: string[], cwd: string): Promise<Server> {
  const child = Bun.spawn([binary, ...args], {
    cwd,
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  track(child.pid);
  const watched = watchLog(child.stderr);
  return {
    process: child,
    pid: child.pid,
    log: watched.text,
    match: (pattern) => watched.match(pattern),
    exited: child.exited,
  };
}

/** The arguments every server of a test shares: one state file, ports of the first one. */
export function serveArgs(dir: string, extra: string[] = []): string[] {
  return [
    "--bind",
    "127.0.0.1:0",
    "--management",
    "127.0.0.1:0",
    "--state-file",
    join(dir, "state.json"),
    "--static-dir",
    join(dir, "static"),
    ...extra,
  ];
}

/** The traffic port and API address a server logged. */
export async function addressesOf(server: Server): Promise<{ port: number; api: string }> {
  const listening = await server.match(/listening on [^\s]+:(\d+)/);
  const management = await server.match(/management API on (http:\/\/[^\s]+?)\/?\s/);
  return { port: Number(listening[1]), api: management[1]! };
}

/** A copy of the compiled binary at `path`, put there as an upgrade does: a new file renamed over. */
export async function placeBinary(path: string): Promise<void> {
  await copyFile(ensureBinary(), `${path}.new`);
  await rename(`${path}.new`, path);
}

/** PUT a rule through the API; throws unless it is accepted. */
export async function setRule(api: string, host: string, rule: unknown[]): Promise<void> {
  const response = await fetch(`${api}/hostname/${host}/`, {
    method: "PUT",
    body: JSON.stringify(rule),
    headers: { Connection: "close" },
  });
  if (response.status !== 200)
    throw new Error(`PUT ${host}: ${response.status} ${await response.text()}`);
}

/** One host's counters from the API. */
export async function countersOf(api: string, host: string): Promise<Record<string, number>> {
  const response = await fetch(`${api}/stats/${host}/`, { headers: { Connection: "close" } });
  return (await response.json()) as Record<string, number>;
}
