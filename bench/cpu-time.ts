/** CPU time of a process and its child processes (workers), from /proc. */
import { readFileSync } from "node:fs";
import { childrenOf } from "./processes.ts";

/** /proc counts CPU time in USER_HZ ticks, which Linux fixes at 100 a second for user space. */
const TICKS_PER_SECOND = 100;

/** User + system ticks of `pid`, all its threads, dead ones included; 0 once it is gone. */
function ticksOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The name in parentheses may hold spaces: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** Seconds of CPU that `pid` and its child processes have used so far. */
export function cpuSecondsOf(pid: number): number {
  let ticks = ticksOf(pid);
  for (const child of childrenOf(pid)) ticks += ticksOf(child);
  return ticks / TICKS_PER_SECOND;
}
