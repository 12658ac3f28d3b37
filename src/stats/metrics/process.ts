/**
 * What a metrics scrape says of the process itself: memory, CPU, open files,
 * start time, event-loop lag and garbage collections. One watch per process,
 * started with its first metrics book: a timer measures how late it fires
 * ten times a second, and the runtime's GC profiler (`node:v8` GCProfiler,
 * which Bun implements over JavaScriptCore) reports each collection's time.
 * Its timers do not keep the process alive.
 */
import { readdirSync, readFileSync } from "node:fs";
import { GCProfiler } from "node:v8";
import { GC_BOUNDS, histogramSlots, LAG_BOUNDS, observe } from "./buckets.ts";

export interface ProcessSnapshot {
  /** Seconds since the epoch. */
  startTime: number;
  uptime: number;
  residentBytes: number;
  cpuSeconds: number;
  /** Null where /proc cannot tell. */
  openFds: number | null;
  maxFds: number | null;
  /** Histogram slots over LAG_BOUNDS. */
  lag: number[];
  /** Histogram slots over GC_BOUNDS, by kind. */
  gc: { minor: number[]; major: number[] };
}

const LAG_SAMPLE_MS = 100;
/** The profiler's records are taken this often, so they never pile up. */
const GC_HARVEST_MS = 2000;

class ProcessWatch {
  private readonly lag = new Float64Array(histogramSlots(LAG_BOUNDS));
  private readonly minor = new Float64Array(histogramSlots(GC_BOUNDS));
  private readonly major = new Float64Array(histogramSlots(GC_BOUNDS));
  private profiler: GCProfiler | null = null;

  constructor() {
    let expected = performance.now() + LAG_SAMPLE_MS;
    const timer = setTimeout(() => {
      const now = performance.now();
      observe(this.lag, 0, LAG_BOUNDS, Math.max(0, now - expected) / 1000);
      expected = now + LAG_SAMPLE_MS;
      timer.refresh();
    }, LAG_SAMPLE_MS);
    timer.unref();
    this.profiler = startProfiler();
    if (this.profiler !== null) setInterval(() => this.harvest(), GC_HARVEST_MS).unref();
  }

  snapshot(): ProcessSnapshot {
    this.harvest();
    const usage = process.cpuUsage();
    return {
      startTime: performance.timeOrigin / 1000,
      uptime: process.uptime(),
      residentBytes: process.memoryUsage.rss(),
      cpuSeconds: (usage.user + usage.system) / 1e6,
      openFds: openFds(),
      maxFds: maxFds(),
      lag: Array.from(this.lag),
      gc: { minor: Array.from(this.minor), major: Array.from(this.major) },
    };
  }

  /** Files the collections recorded since the last call, and records on. */
  private harvest(): void {
    const profiler = this.profiler;
    if (profiler === null) return;
    const result = profiler.stop();
    this.profiler = startProfiler();
    for (const entry of result?.statistics ?? []) {
      // `cost` is in microseconds; JavaScriptCore's eden collections are reported as scavenges.
      const slots = entry.gcType === "Scavenge" ? this.minor : this.major;
      observe(slots, 0, GC_BOUNDS, entry.cost / 1e6);
    }
  }
}

function startProfiler(): GCProfiler | null {
  try {
    const profiler = new GCProfiler();
    profiler.start();
    return profiler;
  } catch {
    return null;
  }
}

function openFds(): number | null {
  try {
    // The listing's own descriptor is among them.
    return readdirSync("/proc/self/fd").length - 1;
  } catch {
    return null;
  }
}

function maxFds(): number | null {
  try {
    const limits = readFileSync("/proc/self/limits", "utf8");
    const soft = /^Max open files\s+(\d+)/m.exec(limits)?.[1];
    return soft === undefined ? null : Number(soft);
  } catch {
    return null;
  }
}

let shared: ProcessWatch | null = null;

/** This process's watch, started on the first call. */
export function processWatch(): ProcessWatch {
  shared ??= new ProcessWatch();
  return shared;
}
