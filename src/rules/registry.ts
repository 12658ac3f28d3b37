/**
 * The one writer of rules. Every change is written to the state file before
 * its promise resolves and before the data plane sees it, so nothing that was
 * acknowledged can be lost, and nothing is served that a crash could undo.
 * Changes that arrive while a write is under way share the next write.
 * A rule that cannot work (a `static` page that does not exist) is refused
 * before anything changes.
 *
 * Why this file is long: the queue, its undo on a failed write and the order
 * in which a batch reaches the disk, the workers, the table and the watchers
 * are one mechanism, best read in one place.
 */
import type { StoredAdmin } from "../backend/admin.ts";
import type { AdminState } from "../backend/state.ts";
import { warnUnverified } from "../backend/tls.ts";
import { log } from "../log.ts";
import type { StatsBook, StatsRecord } from "../stats/host-stats.ts";
import { AdminBook, type AdminChange, type BackendAdmin, NO_BACKEND_ADMIN } from "./admin-book.ts";
import { distinctRules } from "./distinct-rules.ts";
import type { Problem, Rule, RuleEntries, RuleSet, RuleTriple } from "./schema.ts";
import { toTriple, toTriples } from "./schema.ts";
import type { RuleTable } from "./table.ts";

/** The whole state a store keeps: every rule, every host's counters, drained and disabled backends. */
export interface WholeState {
  hosts: RuleEntries;
  stats: Record<string, StatsRecord>;
  backends: Record<string, StoredAdmin>;
}

/**
 * Makes a batch of changes durable. `snapshot` builds the whole state (rules
 * after the batch, and counters) for a store that rewrites its file; a store
 * that appends changes calls it only when it compacts. A shared store that
 * puts the batch into the table itself, in its own order (`applyCommitted`),
 * resolves "applied".
 */
export type Save = (
  changes: readonly Change[],
  snapshot: () => WholeState,
  // biome-ignore lint/suspicious/noConfusingVoidType: a store that only saves returns nothing.
) => Promise<void | "applied">;

/**
 * Whose changes a shared store hands to `applyCommitted`: this instance's batch
 * being saved ("mine"), other instances' ("theirs"), or a whole read that holds
 * the batch being saved too ("theirs-and-mine").
 */
export type Whose = "mine" | "theirs" | "theirs-and-mine";

/** What a shared store (etcd) needs of the registry to follow the changes it commits. */
export interface SharedTable {
  applyCommitted(changes: readonly Change[], whose: Whose): Promise<void>;
  /** The state the table serves (without the changes still waiting here). */
  committed(): WholeState;
}

export type Change =
  | { kind: "set"; key: string; rule: Rule }
  | { kind: "delete"; key: string }
  | { kind: "replace"; rules: RuleSet }
  | AdminChange
  | { kind: "none" };

/**
 * Why a valid rule could not work where it would run, as a problem whose path
 * is within the rule (`["options", "type"]`), or null when it can.
 */
export type RuleCheck = (rule: Rule) => Problem | null;

/** A change refused by the check: nothing changed. Paths start with the hostname for a whole set. */
export class RuleRefused extends Error {
  override name = "RuleRefused";

  constructor(readonly problems: Problem[]) {
    super(problems.map((problem) => problem.message).join("; "));
  }
}

interface Waiting {
  change: Change;
  /** Restores `latest` as it was before this change. */
  undo: () => void;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class RuleRegistry<A> {
  /**
   * What is on disk is what the table holds; `latest` adds the changes still
   * waiting for their write, and is what the API answers from. Each waiting
   * change keeps what it replaced, so a failed write can be taken back.
   */
  private latest: Map<string, Rule>;
  /** `latest` is a replacement's map, which is never edited (see `ownLatest`). */
  private latestShared = false;
  private queue: Waiting[] = [];
  /** The batch being saved. */
  private batch: Waiting[] = [];
  private writing: Promise<void> | null = null;
  private readonly admin: AdminBook;
  private readonly listeners = new Set<(changes: readonly Change[]) => void>();

  constructor(
    private readonly table: RuleTable<A>,
    private readonly stats: StatsBook,
    private readonly save: Save,
    initial: RuleSet,
    /** Where else durable changes must apply before they are acknowledged (workers). */
    private readonly publish: ((changes: readonly Change[]) => Promise<void>) | null = null,
    /** Refuses rules that cannot work; the stored rules are only warned about, so start-up goes on. */
    private readonly check: RuleCheck | null = null,
    /** Drained and disabled backends: those stored, and where a change takes effect. */
    admin: BackendAdmin = NO_BACKEND_ADMIN,
  ) {
    if (check !== null) warnUnworkable(initial, check);
    this.latest = new Map(initial);
    this.admin = new AdminBook(admin);
    table.replaceAll(initial);
    warnUnverified(initial);
  }

  get(key: string): RuleTriple | undefined {
    const rule = this.latest.get(key);
    return rule && toTriple(rule);
  }

  has(key: string): boolean {
    return this.latest.has(key);
  }

  keys(): IterableIterator<string> {
    return this.latest.keys();
  }

  all(): Record<string, RuleTriple> {
    return toTriples(this.latest);
  }

  get size(): number {
    return this.latest.size;
  }
  get generation(): number {
    return this.table.version;
  }

  /** Every rule, as the API answers (read them before the next change). */
  entries(): IterableIterator<[string, Rule]> {
    return this.latest.entries();
  }

  /** Told of each batch of changes once it is durable and serving; returns the unsubscribe. */
  onChange(listener: (changes: readonly Change[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** What an operator said of each backend address (`host:port`): `get` and `all`. */
  get backends(): Pick<AdminBook, "get" | "all"> {
    return this.admin;
  }

  /** Drains, disables or enables a backend address, durably, in every rule that names it. */
  setBackend(key: string, admin: AdminState): Promise<void> {
    return this.submit({ kind: "backend", key, admin });
  }

  /** Rejects with RuleRefused, changing nothing, when the check finds the rule cannot work. */
  set(key: string, rule: Rule): Promise<void> {
    const problem = this.check?.(rule) ?? null;
    if (problem !== null) return Promise.reject(new RuleRefused([problem]));
    return this.submit({ kind: "set", key, rule });
  }

  /** Resolves false, changing nothing, when there is no such rule. */
  async delete(key: string): Promise<boolean> {
    if (!this.latest.has(key)) return false;
    await this.submit({ kind: "delete", key });
    return true;
  }

  /**
   * Rejects with RuleRefused, changing nothing, when any rule of the set cannot
   * work. The set is kept, not copied: the caller must not change it after.
   */
  replaceAll(rules: RuleSet): Promise<void> {
    if (this.check !== null) {
      const found = [...unworkable(rules, this.check)].flatMap(([problem, keys]) =>
        keys.map((key) => ({ path: [key, ...problem.path], message: problem.message })),
      );
      if (found.length > 0) return Promise.reject(new RuleRefused(found));
    }
    return this.submit({ kind: "replace", rules });
  }

  /** Writes the current rules and counters (counters change without any rule change). */
  flush(): Promise<void> {
    return this.submit({ kind: "none" });
  }

  private submit(change: Change): Promise<void> {
    const undo = this.apply(change);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ change, undo, resolve, reject });
      this.writing ??= this.drain();
    });
  }

  /** `latest`, to edit: a copy of its own first if it is a replacement's map. */
  private ownLatest(): Map<string, Rule> {
    if (this.latestShared) {
      this.latest = new Map(this.latest);
      this.latestShared = false;
    }
    return this.latest;
  }

  /** Applies `change` to `latest`; returns what puts it back. */
  private apply(change: Change): () => void {
    switch (change.kind) {
      case "set":
      case "delete": {
        const rules = this.ownLatest();
        const before = rules.get(change.key);
        if (change.kind === "set") rules.set(change.key, change.rule);
        else rules.delete(change.key);
        return () => {
          if (before === undefined) rules.delete(change.key);
          else rules.set(change.key, before);
        };
      }
      case "replace": {
        // Shared with the change until an edit copies it (a million rules take a while to
        // copy); the old map, untouched, is the undo.
        const [rules, shared] = [this.latest, this.latestShared];
        this.latest = change.rules;
        this.latestShared = true;
        return () => {
          this.latest = rules;
          this.latestShared = shared;
        };
      }
      case "backend":
        return this.admin.set(change.key, change.admin);
      case "none":
        return () => {};
    }
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0);
      this.batch = batch;
      const changes = batch.map((waiting) => waiting.change);
      let applied = false;
      try {
        // The whole state is built only if the store asks for it (a rewrite or compaction).
        const saved = await this.save(changes, () => ({
          hosts: rulesAfter(this.table, changes),
          stats: this.stats.toJSON(),
          backends: this.admin.after(changes),
        }));
        applied = saved === "applied";
      } catch (error) {
        // Nothing of this batch is on disk: take back it and what came after, newest
        // first, then put back what still waits.
        for (const waiting of [...batch, ...this.queue].reverse()) waiting.undo();
        for (const waiting of this.queue) waiting.undo = this.apply(waiting.change);
        for (const waiting of batch) waiting.reject(error);
        this.batch = [];
        continue;
      }
      this.batch = [];
      if (!applied) await this.toTable(changes);
      for (const waiting of batch) waiting.resolve();
    }
    this.writing = null;
  }

  /** Where else durable changes must apply, then the table, then who listens. */
  private async toTable(changes: readonly Change[]): Promise<void> {
    if (this.publish !== null) await this.publish(changes);
    for (const change of changes) this.applyToTable(change);
    // Here, where every rule becomes live: from the API, a shared store or a file.
    for (const change of changes) {
      if (change.kind === "set") warnUnverified([[change.key, change.rule]]);
      else if (change.kind === "replace") warnUnverified(change.rules);
    }
    for (const listener of this.listeners) listener(changes);
  }

  /**
   * Puts changes a shared store committed into the table, in the store's order.
   * Changes of other instances go under the ones still waiting here, so what
   * the API answers stays "the table, then what waits".
   */
  applyCommitted(changes: readonly Change[], whose: Whose): Promise<void> {
    // This instance's batch is in `latest` already, above what waits after it.
    if (whose === "mine") this.batch = [];
    else {
      const waiting = whose === "theirs" ? [...this.batch, ...this.queue] : this.queue;
      for (const one of [...this.batch, ...this.queue].reverse()) one.undo();
      if (whose === "theirs-and-mine") this.batch = [];
      for (const change of changes) this.apply(change);
      for (const one of waiting) one.undo = this.apply(one.change);
    }
    return this.toTable(changes);
  }

  committed(): WholeState {
    return {
      hosts: this.table.frozen(),
      stats: this.stats.toJSON(),
      backends: this.admin.after([]),
    };
  }

  private applyToTable(change: Change): void {
    switch (change.kind) {
      case "set":
        this.table.set(change.key, change.rule);
        break;
      case "delete":
        this.table.delete(change.key);
        break;
      case "replace":
        this.table.replaceAll(change.rules);
        break;
      case "backend":
        this.admin.commit(change);
        break;
      case "none":
        break;
    }
  }
}

/**
 * The rules of a set that cannot work, with the keys that hold each. A large set
 * shares a few rule objects between its hostnames, so each is checked once, and
 * the keys are only gone through when one fails.
 */
function unworkable(rules: RuleSet, check: RuleCheck): Map<Problem, string[]> {
  const failed = new Map<Rule, Problem>();
  for (const rule of distinctRules(rules)) {
    const problem = check(rule);
    if (problem !== null) failed.set(rule, problem);
  }
  const found = new Map<Problem, string[]>();
  if (failed.size === 0) return found;
  for (const [key, rule] of rules) {
    const problem = failed.get(rule);
    if (problem === undefined) continue;
    const keys = found.get(problem);
    if (keys === undefined) found.set(problem, [key]);
    else keys.push(key);
  }
  return found;
}

/** Stored rules that can no longer work are kept (start-up must not fail on them) and logged. */
function warnUnworkable(rules: RuleSet, check: RuleCheck): void {
  for (const [problem, keys] of unworkable(rules, check)) {
    const more = keys.length > 1 ? ` (and ${keys.length - 1} more)` : "";
    log.warn(`the stored rule for ${keys[0]}${more} cannot work: ${problem.message}`);
  }
}

/**
 * The durable rules once `changes` are applied, as of now: later changes to the
 * table do not show through, though the rules are read over many event-loop turns.
 */
function rulesAfter<A>(table: RuleTable<A>, changes: readonly Change[]): RuleEntries {
  // Only what follows the last replacement of the whole set counts.
  let from = 0;
  for (let i = 0; i < changes.length; i++) if (changes[i]!.kind === "replace") from = i;
  const base = changes[from];
  // A replacement's map is never edited; the table's maps are, so they are copied.
  const rules = base?.kind === "replace" ? base.rules : table.frozen();
  if (base?.kind === "replace") from++;
  const overlay = new Map<string, Rule | null>();
  for (const change of changes.slice(from)) {
    if (change.kind === "set") overlay.set(change.key, change.rule);
    else if (change.kind === "delete") overlay.set(change.key, null);
  }
  return overlay.size === 0 ? rules : withOverlay(rules, overlay);
}

function* withOverlay(rules: RuleEntries, overlay: Map<string, Rule | null>): RuleEntries {
  for (const entry of rules) if (!overlay.has(entry[0])) yield entry;
  for (const [key, rule] of overlay) if (rule !== null) yield [key, rule];
}
