/**
 * The in-memory rule table the data plane reads: hostname → compiled rule.
 *
 * Resolution of `www.a.example.com` tries `www.a.example.com`, `a.example.com`,
 * `example.com`, `com`; at each name first the key prefixed with the request's
 * protocol, then the bare key. A shorter name matches only when its rule allows
 * subdomains. Keys by protocol live in their own maps, so a lookup never builds
 * a prefixed string: its cost grows with the number of labels, never with the
 * number of rules.
 */
import type { Rule, RuleEntries, RuleSet } from "./schema.ts";

export type Protocol = "http" | "https";

export interface Entry<A> {
  /** The key as stored, with its `http://`/`https://` prefix if it has one. */
  readonly key: string;
  readonly rule: Rule;
  /** The rule made ready to run (see actions/). */
  readonly action: A;
}

export type Compile<A> = (key: string, rule: Rule) => A;

const H = 0x68;

/** Hears each rule a key of the table gains or loses, once per key. */
export interface RuleObserver {
  added(rule: Rule): void;
  removed(rule: Rule): void;
}

export class RuleTable<A> {
  /**
   * Unprefixed keys map to their rule: after a whole new set this is a native
   * copy of the set's own Map, not a million inserts. Their entries are made on
   * a hostname's first request; `bareEntries` only ever holds a key's current
   * rule (set, delete and replaceAll keep it so), so a hit needs no check.
   */
  private bare = new Map<string, Rule>();
  /**
   * `bare` is a map someone else holds too (the set given to replaceAll, or one
   * handed out by `frozen`): the first change copies it, so neither sees the other's.
   */
  private bareShared = false;
  private bareEntries = new Map<string, Entry<A>>();
  private readonly http = new Map<string, Entry<A>>();
  private readonly https = new Map<string, Entry<A>>();
  private readonly listeners = new Set<() => void>();
  /** Grows by one on every change; lets a waiter tell whether anything moved. */
  version = 0;

  constructor(
    private readonly compile: Compile<A>,
    /** Told of each rule a key gains and loses (health checks follow the rules that ask for them). */
    private readonly observer: RuleObserver | null = null,
  ) {}

  get size(): number {
    return this.bare.size + this.http.size + this.https.size;
  }

  /** Finds the rule for a canonical hostname (lower-case, no port, no trailing dot). */
  resolve(host: string, protocol: Protocol): Entry<A> | null {
    const byProtocol = protocol === "https" ? this.https : this.http;
    let exact = true;
    let name = host;
    for (;;) {
      const prefixed = byProtocol.get(name);
      if (prefixed !== undefined && (exact || prefixed.rule.match_subdomains)) return prefixed;
      const bare = this.bareEntries.get(name) ?? this.bareEntry(name);
      if (bare !== undefined && (exact || bare.rule.match_subdomains)) return bare;
      const dot = name.indexOf(".");
      if (dot < 0) return null;
      name = name.substring(dot + 1);
      exact = false;
    }
  }

  get(key: string): Entry<A> | undefined {
    const [map, name] = this.mapFor(key);
    return map !== null ? map.get(name) : (this.bareEntries.get(key) ?? this.bareEntry(key));
  }

  set(key: string, rule: Rule): void {
    const [map, name] = this.mapFor(key);
    if (this.observer !== null) {
      const old = map !== null ? map.get(name)?.rule : this.bare.get(key);
      // Gained before lost: what both rules share is never let go in between.
      this.observer.added(rule);
      if (old !== undefined) this.observer.removed(old);
    }
    if (map !== null) map.set(name, this.entry(key, rule));
    else {
      this.ownBare().set(key, rule);
      // Made now, so the rule is ready (a static page read) before its first request.
      this.bareEntries.set(key, this.entry(key, rule));
    }
    this.changed();
  }

  delete(key: string): boolean {
    const [map, name] = this.mapFor(key);
    if (this.observer !== null) {
      const old = map !== null ? map.get(name)?.rule : this.bare.get(key);
      if (old !== undefined) this.observer.removed(old);
    }
    let existed: boolean;
    if (map !== null) existed = map.delete(name);
    else {
      existed = this.bare.has(key) && this.ownBare().delete(key);
      this.bareEntries.delete(key);
    }
    if (existed) this.changed();
    return existed;
  }

  /**
   * Swaps in a whole rule set as one change. The set is kept, not copied (a
   * million rules take a while to copy): its owner must not change it after.
   */
  replaceAll(rules: RuleSet): void {
    const observer = this.observer;
    if (observer !== null) {
      for (const rule of rules.values()) observer.added(rule);
      // The maps about to be dropped, as they are: nothing changes them meanwhile.
      for (const rule of this.bare.values()) observer.removed(rule);
      for (const entry of this.http.values()) observer.removed(entry.rule);
      for (const entry of this.https.values()) observer.removed(entry.rule);
    }
    this.bare = rules;
    this.bareShared = true;
    this.bareEntries = new Map();
    this.http.clear();
    this.https.clear();
    const ready = new Set<Rule>();
    let last: Rule | undefined;
    rules.forEach((rule, key) => {
      // Only keys with a protocol prefix move out ('h' first: most names skip the test).
      if (key.charCodeAt(0) === H && (key.startsWith("http://") || key.startsWith("https://"))) {
        this.ownBare().delete(key);
        const [map, name] = this.mapFor(key);
        map!.set(name, this.entry(key, rule));
      } else if (rule !== last) {
        // Each distinct rule is made ready now, as `set` does (a static page is read).
        if (!ready.has(rule)) {
          ready.add(rule);
          this.bareEntries.set(key, this.entry(key, rule));
        }
        last = rule;
      }
    });
    this.changed();
  }

  /**
   * The rules as they are now, unaffected by later changes: a copy of each map
   * (not of its rules), the unprefixed one copied only if the table changes.
   */
  frozen(): RuleEntries {
    this.bareShared = true;
    return frozenEntries(this.bare, [new Map(this.http), new Map(this.https)]);
  }

  /** Called after every change; spinning requests wait on this. Returns an unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    this.version++;
    for (const listener of [...this.listeners]) listener();
  }

  /** `bare`, for a change: a copy of its own first, if it is shared. */
  private ownBare(): Map<string, Rule> {
    if (this.bareShared) {
      this.bare = new Map(this.bare);
      this.bareShared = false;
    }
    return this.bare;
  }

  /** The entry of an unprefixed key on its first use, or undefined when there is no such rule. */
  private bareEntry(name: string): Entry<A> | undefined {
    const rule = this.bare.get(name);
    if (rule === undefined) return undefined;
    const entry = this.entry(name, rule);
    this.bareEntries.set(name, entry);
    return entry;
  }

  private entry(key: string, rule: Rule): Entry<A> {
    return { key, rule, action: this.compile(key, rule) };
  }

  /** The prefixed map and the name within it, or null for an unprefixed key. */
  private mapFor(key: string): [Map<string, Entry<A>> | null, string] {
    if (key.startsWith("http://")) return [this.http, key.substring(7)];
    if (key.startsWith("https://")) return [this.https, key.substring(8)];
    return [null, key];
  }
}

function* frozenEntries<A>(
  bare: Map<string, Rule>,
  prefixed: Map<string, Entry<A>>[],
): RuleEntries {
  yield* bare;
  for (const map of prefixed) for (const entry of map.values()) yield [entry.key, entry.rule];
}
