/**
 * Rules and backend states shared by many instances through etcd. A change
 * is acknowledged once etcd has committed it; every instance (this one too)
 * puts it into its table from the commit, in revision order (see applier.ts).
 * The local state file keeps a copy of the table, so an instance that starts
 * while etcd is out of reach serves what it served before; writes then fail
 * (503) and change nothing.
 */
import type { StoredAdmin } from "../../backend/admin.ts";
import { log } from "../../log.ts";
import type { Change, Save, SharedTable } from "../../rules/registry.ts";
import type { RuleSet } from "../../rules/schema.ts";
import { Applier } from "./applier.ts";
import { CacheWriter } from "./cache.ts";
import {
  CALL_MS,
  deadline,
  type EtcdClient,
  type EtcdSettings,
  openEtcdClient,
  reasonOf,
} from "./client.ts";
import { SharedStoreError } from "./errors.ts";
import { Reachability, type StoreHealth } from "./health.ts";
import { StoreKeys } from "./keys.ts";
import { changesTo, loadShared, type SharedState } from "./load.ts";
import { OwnWrite } from "./own-writes.ts";
import { planWrites, type WritePlan } from "./plan.ts";
import { RuleReader } from "./values.ts";
import { WatchFeed } from "./watch-feed.ts";

/** How long a write waits for its own commit to reach the table before it is answered anyway. */
const APPLY_MS = 5_000;
/** Between attempts to read the whole table, and probes of an unreachable etcd. */
const RETRY_MS = 1_000;

export class EtcdStore {
  readonly reach: Reachability;
  private applier: Applier | null = null;
  private table: SharedTable | null = null;
  private feed: WatchFeed | null = null;
  private cache: CacheWriter | null = null;
  private readonly reader = new RuleReader();
  private probing: ReturnType<typeof setInterval> | null = null;
  private closed = false;
  private wakeRetry: (() => void) | null = null;

  /**
   * Reads the whole table from etcd; when etcd cannot be reached, the store
   * opens anyway and the caller serves its cached table until it can.
   */
  static async open(settings: EtcdSettings): Promise<EtcdStore> {
    const client = await openEtcdClient(settings);
    const keys = new StoreKeys(settings.etcdPrefix);
    try {
      return new EtcdStore(client, keys, await loadShared(client, keys));
    } catch (error) {
      log.warn(`etcd is unreachable (${reasonOf(error)}): serving the cached rules until it is`);
      return new EtcdStore(client, keys, null);
    }
  }

  /** The revision read at start, or null when etcd could not be read. */
  readonly loadedRevision: number | null;

  private constructor(
    private readonly client: EtcdClient,
    private readonly keys: StoreKeys,
    /** What etcd held at start (let go once the table has it), or null when it could not be read. */
    private loaded: SharedState | null,
  ) {
    this.loadedRevision = loaded?.revision ?? null;
    this.reach = new Reachability(() => this.applier?.applied ?? this.loadedRevision ?? 0);
    if (loaded !== null) this.reach.up();
    this.reach.onChange(() => this.probe());
    this.probe();
  }

  /** The table to start with: etcd's, or else the cached one. */
  initial(cached: { hosts: RuleSet; backends: Record<string, StoredAdmin> }) {
    return this.loaded === null
      ? { rules: cached.hosts, backends: cached.backends }
      : { rules: this.loaded.rules, backends: this.loaded.backends };
  }

  /**
   * Starts following etcd into `table`, which was made from `initial`; `file`
   * saves to the state file, kept as a copy of the table.
   */
  start(table: SharedTable, file: Save, cachedBackends: Record<string, StoredAdmin>): void {
    this.table = table;
    const cache = new CacheWriter(file, () => table.committed());
    this.cache = cache;
    const applier = new Applier(
      table,
      cache,
      this.keys,
      this.reader,
      { load: () => this.loadUntilRead(), loaded: (revision) => this.watchFrom(revision + 1) },
      this.loaded?.revision ?? 0,
    );
    this.applier = applier;
    if (this.loaded === null) applier.reload();
    else {
      cache.write(changesTo(this.loaded, cachedBackends));
      this.watchFrom(this.loaded.revision + 1);
      this.loaded = null;
    }
  }

  health(): StoreHealth {
    return this.reach.report();
  }

  readonly save: Save = async (changes) => {
    const table = this.table!;
    if (changes.every((change) => change.kind === "none")) return this.cache!.flush(changes);
    if (this.closed) throw new SharedStoreError("Mantrid is stopping: nothing changed");
    // The table and the revision it is at, taken together (nothing runs in between).
    const basis = this.applier!.applied;
    const plan = planWrites(changes, this.keys, () => table.committed().hosts);
    // A rule set equal to the one in etcd: nothing to write.
    if (plan.chunks.length === 0) return;
    await this.commit(plan, basis, changes);
    return "applied";
  };

  async close(): Promise<void> {
    this.closed = true;
    if (this.probing !== null) clearInterval(this.probing);
    this.wakeRetry?.();
    this.feed?.stop();
    this.applier?.close();
    await this.cache?.idle();
    this.client.close();
  }

  /**
   * Sends the plan's transactions; resolves once they are in the table, or
   * after a deadline when the watch lags (they are committed: the watch puts
   * them into the table when it catches up).
   */
  private async commit(plan: WritePlan, basis: number, changes: readonly Change[]): Promise<void> {
    const applier = this.applier!;
    // A difference from the table assumes etcd held the table's rules: a write
    // from elsewhere after them means the table is read again afterwards.
    const own = new OwnWrite(changes, plan.fromTable ? basis : null);
    applier.hold();
    try {
      for (const [i, success] of plan.chunks.entries()) {
        const response = await this.client.etcd.kv.txn({ success }, deadline(CALL_MS));
        this.reach.up();
        const revision = Number(response.header.revision);
        own.committed(revision);
        if (i === 0) applier.own.add(own);
        if (i === plan.chunks.length - 1) own.last = revision;
        applier.raise(revision);
      }
    } catch (error) {
      applier.own.remove(own);
      // Some transactions are in etcd and the rest is not: take the table from etcd.
      if (own.first > 0) applier.reload();
      throw this.failure(error, own.first > 0);
    } finally {
      applier.release();
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), APPLY_MS);
    });
    if (await Promise.race([own.applied.then(() => false), late])) {
      own.waiting = false;
      log.warn(`etcd: revision ${own.last} is committed but not yet seen by the watch`);
    }
    clearTimeout(timer);
  }

  private failure(error: unknown, partly: boolean): SharedStoreError {
    const reason = reasonOf(error);
    const refused = this.client.isRefusal(error);
    if (!refused) this.reach.down();
    if (partly) {
      return new SharedStoreError(
        `etcd failed part-way through this change (${reason}): the part written is kept and ` +
          "served, the rest is not; send it again to finish",
      );
    }
    if (refused) return new SharedStoreError(`etcd refused the change: ${reason}`);
    if (error instanceof this.client.module.GRPCDeadlineExceededError) {
      return new SharedStoreError(
        `etcd did not answer in time (${reason}): the change may or may not have been made; ` +
          "read it back to know",
      );
    }
    return new SharedStoreError(`etcd is unreachable (${reason}): nothing changed`);
  }

  private watchFrom(revision: number): void {
    this.feed?.stop();
    if (this.closed) return;
    this.feed = new WatchFeed(this.client, this.keys.all, revision, {
      events: (events) => this.applier?.events(events),
      connected: () => this.reach.up(),
      lost: (reason) => {
        if (this.reach.ok) log.warn(`etcd: lost the watch (${reason}); trying again`);
        this.reach.down();
      },
      canceled: (reason) => {
        log.warn(`etcd ended the watch (${reason}): reading the whole table again`);
        this.applier?.reload();
      },
    });
  }

  private async loadUntilRead(): Promise<SharedState | null> {
    this.feed?.stop();
    this.feed = null;
    let told = false;
    while (!this.closed) {
      try {
        const state = await loadShared(this.client, this.keys);
        this.reach.up();
        return state;
      } catch (error) {
        if (!this.client.isRefusal(error)) this.reach.down();
        if (!told) log.warn(`etcd: cannot read the rules (${reasonOf(error)}); trying again`);
        told = true;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, RETRY_MS);
          this.wakeRetry = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
    return null;
  }

  /** While etcd is unreachable, asks it every second whether it is back. */
  private probe(): void {
    if (this.reach.ok || this.closed) {
      if (this.probing !== null) clearInterval(this.probing);
      this.probing = null;
      return;
    }
    if (this.probing !== null) return;
    let asking = false;
    this.probing = setInterval(() => {
      if (asking) return;
      asking = true;
      // One key, read through the leader: cheap however large the table (a range is not).
      this.client.etcd.kv
        .range({ key: this.keys.all.start, keys_only: true }, deadline(CALL_MS))
        .then(() => this.reach.up())
        .catch(() => {})
        .finally(() => {
          asking = false;
        });
    }, RETRY_MS);
    this.probing.unref?.();
  }
}
