/**
 * Every process the benchmark starts, tracked by PID and stopped by PID: on a
 * normal finish, on an error, and on SIGINT/SIGTERM. Children of a tracked
 * process (nginx workers, Mantrid workers) are found through /proc and
 * stopped too, still one PID at a time.
 */
import { readFileSync } from "node:fs";
import type { Subprocess } from "bun";

interface Tracked {
  name: string;
  child: Subprocess;
}

const tracked: Tracked[] = [];

export interface SpawnOptions {
  cwd?: string;
  /** Keep stdout as a stream (for processes whose output is read). */
  stdout?: "pipe" | "ignore";
  /** Keep stderr as a stream (for processes whose log is read). */
  stderr?: "pipe" | "ignore" | "inherit";
  env?: Record<string, string | undefined>;
}

/** Starts `argv` and keeps track of it until it is stopped. */
export function spawnTracked(
  name: string,
  argv: string[],
  options: SpawnOptions = {},
): Subprocess<"ignore", "pipe" | "ignore", "pipe" | "ignore" | "inherit"> {
  const child = Bun.spawn(argv, {
    cwd: options.cwd,
    env: options.env,
    stdin: "ignore",
    stdout: options.stdout ?? "ignore",
    stderr: options.stderr ?? "pipe",
  });
  tracked.push({ name, child });
  return child as Subprocess<"ignore", "pipe" | "ignore", "pipe" | "ignore" | "inherit">;
}

/** The PIDs of the direct children of `pid`, from /proc. */
export function childrenOf(pid: number): number[] {
  try {
    const tasks = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8");
    return tasks
      .trim()
      .split(/\s+/)
      .filter((text) => text !== "")
      .map(Number);
  } catch {
    return [];
  }
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/** Stops one tracked process: SIGTERM, then SIGKILL (and its children) after `graceMs`. */
export async function stopTracked(child: Subprocess, graceMs = 3000): Promise<void> {
  const index = tracked.findIndex((entry) => entry.child === child);
  if (index >= 0) tracked.splice(index, 1);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const children = childrenOf(child.pid);
  child.kill("SIGTERM");
  const exited = await Promise.race([
    child.exited.then(() => true),
    Bun.sleep(graceMs).then(() => false),
  ]);
  if (!exited) {
    child.kill("SIGKILL");
    await child.exited;
  }
  // A master that died hard may leave its workers behind.
  for (const pid of children) signalPid(pid, "SIGKILL");
}

/** Stops everything still tracked, newest first. */
export async function stopAll(): Promise<void> {
  while (tracked.length > 0) {
    const last = tracked[tracked.length - 1]!;
    await stopTracked(last.child);
  }
}

/** Synchronous last resort for an exit that cannot wait. */
function killAllNow(): void {
  for (const { child } of tracked) {
    for (const pid of childrenOf(child.pid)) signalPid(pid, "SIGKILL");
    signalPid(child.pid, "SIGKILL");
  }
  tracked.length = 0;
}

let installed = false;
let stopping = false;
const cleanups: (() => void)[] = [];

/** True once SIGINT/SIGTERM has arrived: errors after that are the stop's doing. */
export function isStopping(): boolean {
  return stopping;
}

/** Runs `cleanup` (synchronously) after the processes are stopped on a signal or exit. */
export function onCleanup(cleanup: () => void): void {
  cleanups.push(cleanup);
}

function runCleanups(): void {
  while (cleanups.length > 0) {
    try {
      cleanups.pop()!();
    } catch {
      // Best effort: the process is ending.
    }
  }
}

/** On SIGINT/SIGTERM: stop every tracked process, clean up, then exit 130/143. */
export function installSignalCleanup(): void {
  if (installed) return;
  installed = true;
  const onSignal = (signal: NodeJS.Signals, code: number) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n${signal}: stopping the processes started by the benchmark\n`);
    const hardStop = setTimeout(() => {
      killAllNow();
      runCleanups();
      process.exit(code);
    }, 5000);
    stopAll().finally(() => {
      clearTimeout(hardStop);
      runCleanups();
      process.exit(code);
    });
  };
  process.on("SIGINT", () => onSignal("SIGINT", 130));
  process.on("SIGTERM", () => onSignal("SIGTERM", 143));
  process.on("exit", () => {
    killAllNow();
    runCleanups();
  });
}

/** Everything a process logged on stderr, and a way to wait for a line in it. */
export interface LogWatch {
  text(): string;
  match(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

export function watchStderr(stream: ReadableStream<Uint8Array>, name: string): LogWatch {
  let text = "";
  let ended = false;
  const waiters = new Set<() => void>();
  (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      if (text.length > 1_000_000) text = text.slice(-500_000);
      for (const wake of waiters) wake();
    }
    ended = true;
    for (const wake of waiters) wake();
  })();
  return {
    text: () => text,
    match(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${name}: no ${pattern} in its log after ${timeoutMs} ms:\n${text}`));
        }, timeoutMs);
        const check = () => {
          const found = text.match(pattern);
          if (found || ended) {
            clearTimeout(timer);
            waiters.delete(check);
            if (found) resolve(found);
            else reject(new Error(`${name} exited without ${pattern} in its log:\n${text}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
  };
}
