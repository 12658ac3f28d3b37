/**
 * The local state file as a cache of the shared table: every change the
 * table takes is written there too, so an instance restarted while etcd is
 * out of reach serves what it served before. Writes take turns; changes that
 * arrive while one is under way share the next write (one fsync for many).
 */
import { log } from "../../log.ts";
import type { Change, Save, WholeState } from "../../rules/registry.ts";
import { reasonOf } from "./client.ts";

export class CacheWriter {
  private pending: Change[] = [];
  private writing: Promise<void> | null = null;
  private failed = false;

  constructor(
    /** Saves to the state file. */
    private readonly save: Save,
    /** The table's state now (it holds every change handed here so far). */
    private readonly snapshot: () => WholeState,
  ) {}

  /** Queues changes the table has taken; a failure is logged, the table is right regardless. */
  write(changes: readonly Change[]): void {
    for (const change of changes) this.pending.push(change);
    this.writing ??= this.drain();
  }

  /** Writes now (counters), after what is queued; rejects when the file cannot be written. */
  async flush(changes: readonly Change[]): Promise<void> {
    await this.idle();
    await this.save(changes, this.snapshot);
  }

  /** Resolves once every queued change is written (or failed). */
  async idle(): Promise<void> {
    while (this.writing !== null) await this.writing;
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const changes = this.pending;
      this.pending = [];
      // After a failed write the file misses changes: rewrite it whole.
      if (this.failed) changes.unshift({ kind: "replace", rules: new Map(this.snapshot().hosts) });
      try {
        await this.save(changes, this.snapshot);
        if (this.failed) log.info("the state file cache is written again");
        this.failed = false;
      } catch (error) {
        if (!this.failed) log.warn(`cannot write the state file cache: ${reasonOf(error)}`);
        this.failed = true;
      }
    }
    this.writing = null;
  }
}
