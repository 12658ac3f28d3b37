/**
 * Bun's allocator (mimalloc) gives freed pages back to the OS soon after they
 * fall idle. A proxy frees and takes body-sized buffers all the time, so every
 * request faulted its pages in again: about 50 page faults per 1 MiB upload,
 * a quarter of the CPU that upload costs. A purge delay of one second keeps the
 * pages through steady traffic and still returns them once traffic calms.
 *
 * mimalloc reads its options from the environment only as the process starts,
 * so the server starts itself again, once, with the option set (same PID,
 * same arguments). A value the user set is left as it is.
 */
import { selfCommand } from "./self-command.ts";

export const PURGE_DELAY_ENV = "MIMALLOC_PURGE_DELAY";
export const PURGE_DELAY_MS = "1000";

/** What decides a restart: `process` itself, or a stand-in so the decision can be checked alone. */
export interface StartedAs {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly platform: string;
  readonly execArgv: readonly string[];
}

export function needsRestart(started: StartedAs): boolean {
  if (started.env[PURGE_DELAY_ENV] !== undefined) return false;
  if (started.platform !== "linux") return false;
  // Bun's own flags (`bun --cpu-prof src/main.ts`): a profiler does not survive
  // the exec, so such a run goes on as it was started.
  return started.execArgv.length === 0;
}

/** Returns only when no restart is needed or possible. */
export function restartWithAllocatorTuning(args: readonly string[]): void {
  if (typeof process.execve !== "function" || !needsRestart(process)) return;
  const [file, ...entry] = selfCommand();
  try {
    process.execve(file!, [process.argv0, ...entry, ...args], {
      ...process.env,
      [PURGE_DELAY_ENV]: PURGE_DELAY_MS,
    });
  } catch {
    // Not fatal: Mantrid runs as well, only with more page faults under load.
  }
}
