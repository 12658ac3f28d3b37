/**
 * The state as a snapshot plus a change log, so saving one change costs one
 * append and one fsync whatever the number of rules.
 *
 * Compaction writes a new snapshot naming a new log, made durable in this
 * order: snapshot temp file; new log, holding the batches appended meanwhile;
 * rename of the snapshot; removal of the old log. Before the rename a load
 * reads the old snapshot and old log, after it the new pair; either is whole.
 */
import { rm } from "node:fs/promises";
import { log } from "../log.ts";
import type { Change, WholeState } from "../rules/registry.ts";
import { writeFileDurably } from "./durable-write.ts";
import { LogFile } from "./log-file.ts";
import { type Entry, encodeBatch, replay, toEntries } from "./log-format.ts";
import {
  logPath,
  newGeneration,
  readSnapshot,
  removeLeftovers,
  serializeSnapshot,
} from "./snapshot.ts";
import type { LoadedState } from "./state-file.ts";

export type CompactionStep = "snapshot-written" | "log-ready" | "renamed" | "done";

export interface StoreOptions {
  /** Compact once the log holds more changes than this (default: max(10,000, rules / 4)). */
  compactAfterChanges?: number;
  /** Compact once the log is larger than this many bytes (default 64 MiB). */
  compactAfterBytes?: number;
  /** Up to this snapshot size a counters save rewrites it; above, counters go to the log. */
  rewriteOnFlushBytes?: number;
  /** Called at each step of a compaction; tests copy the files there, as a crash would leave them. */
  onCompaction?: (step: CompactionStep) => Promise<void> | void;
}

type Snapshotter = () => WholeState;

/** Batches appended while a compaction runs: the new log starts with them. */
interface Carry {
  lines: Buffer[];
  changes: number;
  counters: string | null;
}

interface Sizes {
  /** Changes in the current log. */
  changes: number;
  /** Rules in the last snapshot, which sets the compaction threshold. */
  rules: number;
  snapshotBytes: number;
  /** The counters last made durable, as JSON. */
  counters: string;
}

const RETRY_MS = 30_000;

export async function openStateStore(
  path: string,
  options: StoreOptions = {},
): Promise<StateStore> {
  const snapshot = await readSnapshot(path);
  const state = { hosts: snapshot.hosts, stats: snapshot.stats, backends: snapshot.backends };
  let current: LogFile | null = null;
  let changes = 0;
  if (snapshot.log !== null) {
    const opened = await LogFile.open(logPath(path, snapshot.log));
    try {
      replay(state, opened.decoded.batches, logPath(path, snapshot.log));
    } catch (error) {
      await opened.log.close();
      throw error;
    }
    current = opened.log;
    for (const batch of opened.decoded.batches) changes += batch.length;
  }
  await removeLeftovers(path, snapshot.log);
  const loaded: LoadedState = {
    hosts: state.hosts,
    stats: state.stats,
    backends: state.backends,
    fresh: snapshot.fresh,
  };
  return new StateStore(path, options, loaded, current, {
    changes,
    rules: state.hosts.size,
    snapshotBytes: snapshot.bytes,
    counters: JSON.stringify(state.stats),
  });
}

export class StateStore {
  private saving = false;
  private compacting: Promise<void> | null = null;
  private carry: Carry | null = null;
  private lockTail: Promise<void> = Promise.resolve();
  private retryAt = 0;
  private broken: Error | null = null;
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly options: StoreOptions,
    /** What the files held when opened. */
    readonly loaded: LoadedState,
    private current: LogFile | null,
    private readonly sizes: Sizes,
  ) {}

  /** For tests and diagnostics. */
  get status(): { log: string | null; changes: number; bytes: number } {
    return { log: this.current?.path ?? null, changes: this.sizes.changes, bytes: this.logBytes };
  }

  /**
   * Resolves once the batch is durable; on rejection nothing of it will load.
   * One save at a time (the registry's drain loop guarantees it).
   */
  async save(changes: readonly Change[], snapshot: Snapshotter): Promise<void> {
    if (this.closed) throw new Error("the state store is closed");
    if (this.broken)
      throw new Error(`the state cannot be saved until restart: ${this.broken.message}`);
    if (this.saving) throw new Error("one save at a time");
    this.saving = true;
    try {
      await this.saveBatch(changes, snapshot);
    } finally {
      this.saving = false;
    }
  }

  /** Waits for a running compaction and closes the log; later saves are refused. */
  async close(): Promise<void> {
    this.closed = true;
    await this.compacting;
    await this.exclusive(async () => this.current?.close());
  }

  private async saveBatch(changes: readonly Change[], snapshot: Snapshotter): Promise<void> {
    const flush = changes.some((change) => change.kind === "none");
    // A whole new rule set is a new snapshot, not a log line as large as one.
    const replaced = changes.some((change) => change.kind === "replace");
    if (
      this.current === null ||
      replaced ||
      (flush && this.sizes.snapshotBytes <= this.rewriteLimit)
    ) {
      // No log yet, a replaced rule set, or a counters save on a snapshot cheap enough to rewrite.
      await this.compacting;
      const document = snapshot();
      const idle = this.current !== null && this.sizes.changes === 0;
      if (idle && changes.every((change) => change.kind === "none")) {
        if (JSON.stringify(document.stats) === this.sizes.counters) return;
      }
      return this.compact(document, false);
    }
    const entries: Entry[] = toEntries(changes);
    let counters: string | null = null;
    if (flush) {
      const stats = snapshot().stats;
      counters = JSON.stringify(stats);
      if (counters !== this.sizes.counters) entries.push({ stats });
      else counters = null;
    }
    if (entries.length === 0) return;
    const line = encodeBatch(entries);
    await this.exclusive(async () => {
      await this.current!.append(line);
      this.sizes.changes += entries.length;
      if (counters !== null) this.sizes.counters = counters;
      if (this.carry !== null) {
        this.carry.lines.push(line);
        this.carry.changes += entries.length;
        if (counters !== null) this.carry.counters = counters;
      }
    });
    if (this.compacting === null && this.dueForCompaction()) this.compactInBackground(snapshot);
  }

  /** The batch is durable already: a failure here must not reject it. */
  private compactInBackground(snapshot: Snapshotter): void {
    const warn = (error: unknown) =>
      log.warn(`cannot compact the state: ${(error as Error).message}`);
    try {
      // `snapshot` is exact only until this save resolves, so the state is taken now.
      this.compacting = this.compact(snapshot(), true)
        .catch(warn)
        .finally(() => {
          this.compacting = null;
        });
    } catch (error) {
      warn(error);
    }
  }

  private get logBytes(): number {
    return this.current?.size ?? 0;
  }

  private get rewriteLimit(): number {
    return this.options.rewriteOnFlushBytes ?? 8 * 1024 * 1024;
  }

  private dueForCompaction(): boolean {
    if (Date.now() < this.retryAt) return false;
    const changes =
      this.options.compactAfterChanges ?? Math.max(10_000, Math.floor(this.sizes.rules / 4));
    const bytes = this.options.compactAfterBytes ?? 64 * 1024 * 1024;
    return this.sizes.changes > changes || this.logBytes > bytes;
  }

  /**
   * Writes `document` (whose batch is in the log already, or is made durable
   * by this very write) and moves appends to a new log. Batches appended
   * meanwhile are carried into the new log before the rename.
   */
  private async compact(document: WholeState, background: boolean): Promise<void> {
    const carry: Carry = { lines: [], changes: 0, counters: null };
    this.carry = carry;
    const step = async (name: CompactionStep) => this.options.onCompaction?.(name);
    let release: (() => void) | undefined;
    let next: LogFile | undefined;
    let renaming = false;
    try {
      // Let the answer to the batch that triggered this go out first.
      if (background) await new Promise((resolve) => setImmediate(resolve));
      const generation = newGeneration();
      const written = await serializeSnapshot(document, generation);
      await writeFileDurably(this.path, written.parts, async () => {
        await step("snapshot-written");
        release = await this.lock();
        next = await LogFile.create(logPath(this.path, generation), Buffer.concat(carry.lines));
        await step("log-ready");
        renaming = true;
      });
      const old = this.current;
      this.current = next!;
      this.carry = null;
      Object.assign(this.sizes, {
        changes: carry.changes,
        rules: written.rules,
        snapshotBytes: written.size,
        counters: carry.counters ?? written.counters,
      });
      release?.();
      await step("renamed");
      await old?.close();
      if (old) await rm(old.path, { force: true });
      await step("done");
    } catch (error) {
      this.carry = null;
      this.retryAt = Date.now() + RETRY_MS;
      if (next !== undefined && this.current !== next) {
        await next.close();
        // Once the rename may have happened, which snapshot is on disk is unknown: stop saving.
        if (renaming) this.broken = error as Error;
        else await rm(next.path, { force: true });
      }
      throw error;
    } finally {
      release?.();
    }
  }

  private async exclusive(work: () => Promise<void>): Promise<void> {
    const release = await this.lock();
    try {
      await work();
    } finally {
      release();
    }
  }

  /** Appends and a compaction's switch-over take turns. */
  private lock(): Promise<() => void> {
    const previous = this.lockTail;
    let release!: () => void;
    this.lockTail = new Promise((resolve) => {
      release = resolve;
    });
    return previous.then(() => release);
  }
}
