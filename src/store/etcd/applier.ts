/**
 * Puts etcd's revisions into the table one at a time, in order, each once:
 * changes from the watch, this instance's own writes (known by the revision
 * etcd gave them, so the echo of a write is not applied again), and whole
 * reads (after a compaction). While one of our writes is on its way, nothing
 * past the revisions known to precede it is applied: its revision is not
 * known yet, and an event after it must not go first.
 */
import type { IEvent } from "etcd3";
import { log } from "../../log.ts";
import type { Change, SharedTable, Whose } from "../../rules/registry.ts";
import type { CacheWriter } from "./cache.ts";
import { reasonOf } from "./client.ts";
import { changesOf } from "./events.ts";
import type { StoreKeys } from "./keys.ts";
import { changesTo, type Reloader } from "./load.ts";
import { OwnWrites } from "./own-writes.ts";
import type { RuleReader } from "./values.ts";

/** After a change that could not be applied, before the whole table is read. */
const RETRY_MS = 1_000;

type Item = { kind: "events"; revision: number; events: IEvent[] } | { kind: "reload" };

export class Applier {
  /** The revision the table is at. */
  applied: number;
  /** The newest revision handed over by the watch (applied or queued). */
  private received: number;
  readonly own = new OwnWrites();
  private readonly queue: Item[] = [];
  private running = false;
  /** While a write is on its way: the last revision that may be applied. */
  private limit: number | null = null;
  private wake: (() => void) | null = null;
  private closed = false;

  constructor(
    private readonly table: SharedTable,
    private readonly cache: CacheWriter,
    private readonly keys: StoreKeys,
    private readonly reader: RuleReader,
    private readonly reloader: Reloader,
    revision: number,
  ) {
    this.applied = revision;
    this.received = revision;
  }

  /** Events from the watch, as they come. */
  events(events: readonly IEvent[]): void {
    let start = 0;
    for (let i = 1; i <= events.length; i++) {
      const revision = Number(events[start]!.kv.mod_revision);
      if (i < events.length && Number(events[i]!.kv.mod_revision) === revision) continue;
      this.queue.push({ kind: "events", revision, events: events.slice(start, i) });
      this.received = Math.max(this.received, revision);
      start = i;
    }
    void this.run();
  }

  /** Reads the whole table again (a compacted watch, a write that failed half-way). */
  reload(): void {
    if (this.queue.some((item) => item.kind === "reload")) return;
    this.queue.push({ kind: "reload" });
    void this.run();
  }

  /** A write is about to be sent: what came before it may still be applied, nothing after. */
  hold(): void {
    this.limit = this.received;
  }

  /** Every revision up to this one is known: ours, or before ours. */
  raise(revision: number): void {
    this.limit = revision;
    this.wake?.();
  }

  release(): void {
    this.limit = null;
    this.wake?.();
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.wake?.();
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const item = this.queue[0]!;
        if (item.kind === "events" && this.limit !== null && item.revision > this.limit) {
          await new Promise<void>((resolve) => {
            this.wake = resolve;
          });
          this.wake = null;
          continue;
        }
        this.queue.shift();
        try {
          if (item.kind === "reload") await this.reloadNow();
          else if (item.revision > this.applied) await this.apply(item.revision, item.events);
        } catch (error) {
          log.error(`etcd: could not apply a change, reading the whole table: ${reasonOf(error)}`);
          // Not at once: what failed may fail again.
          await Bun.sleep(RETRY_MS);
          this.reload();
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async apply(revision: number, events: IEvent[]): Promise<void> {
    const own = this.own.at(revision);
    if (own === null) {
      this.own.seeForeign(revision);
      const changes = changesOf(events, this.keys, this.reader);
      if (changes.length > 0) await this.commit(changes, "theirs");
    } else if (own.last === revision) {
      this.own.remove(own);
      await this.commit(own.changes, own.waiting ? "mine" : "theirs");
      own.done();
      // Another write landed between the transactions of ours: read what etcd holds.
      if (own.interleaved) this.reload();
    }
    // Otherwise a part of a write of ours cut into several transactions: applied with its last.
    this.advance(revision);
  }

  private async reloadNow(): Promise<void> {
    const state = await this.reloader.load();
    if (state === null) return;
    const covered = this.own.upTo(state.revision);
    const changes = changesTo(state, this.table.committed().backends);
    const mine = covered.some((own) => own.waiting);
    await this.commit(changes, mine ? "theirs-and-mine" : "theirs");
    for (const own of covered) own.done();
    // What the watch had delivered is in the read, or after it.
    let kept = 0;
    for (const item of this.queue) if (laterThan(state.revision)(item)) this.queue[kept++] = item;
    this.queue.length = kept;
    this.advance(state.revision);
    this.received = Math.max(this.received, state.revision);
    log.info(`read ${state.rules.size} rules from etcd at revision ${state.revision}`);
    this.reloader.loaded(state.revision);
  }

  private async commit(changes: readonly Change[], whose: Whose): Promise<void> {
    await this.table.applyCommitted(changes, whose);
    this.cache.write(changes);
  }

  private advance(revision: number): void {
    this.applied = Math.max(this.applied, revision);
  }
}

function laterThan(revision: number) {
  return (item: Item) => item.kind === "reload" || item.revision > revision;
}
