/** Resident memory of a process and its children, from /proc. */
import { readFileSync } from "node:fs";
import { childrenOf } from "./processes.ts";

export interface Memory {
  /** VmRSS now, in bytes. */
  rss: number;
  /** VmHWM, the peak RSS so far, in bytes. */
  peak: number;
}

function statusKib(pid: number, field: string): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** The memory of `pid`, plus that of its child processes (workers), if any. */
export function memoryOf(pid: number): Memory {
  const pids = [pid, ...childrenOf(pid)];
  let rss = 0;
  let peak = 0;
  for (const each of pids) {
    rss += statusKib(each, "VmRSS") * 1024;
    peak += statusKib(each, "VmHWM") * 1024;
  }
  return { rss, peak };
}
