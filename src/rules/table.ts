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

export class RuleTable<A> {
  private readonly bare = new Map<string, Entry<A>>();
  private readonly http = new Map<string, Entry<A>>();
  private readonly https = new Map<string, Entry<A>>();
  private readonly listeners = new Set<() => void>();
  /** Grows by one on every change; lets a waiter tell whether anything moved. */
  version = 0;

  constructor(private readonly compile: Compile<A>) {}

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
      const bare = this.bare.get(name);
      if (bare !== undefined && (exact || bare.rule.match_subdomains)) return bare;
      const dot = name.indexOf(".");
      if (dot < 0) return null;
      name = name.substring(dot + 1);
      exact = false;
    }
  }

  get(key: string): Entry<A> | undefined {
    const [map, name] = this.mapFor(key);
    return map.get(name);
  }

  set(key: string, rule: Rule): void {
    this.insert(key, rule);
    this.changed();
  }

  delete(key: string): boolean {
    const [map, name] = this.mapFor(key);
    const existed = map.delete(name);
    if (existed) this.changed();
    return existed;
  }

  /** Swaps in a whole rule set as one change. */
  replaceAll(rules: RuleSet): void {
    this.bare.clear();
    this.http.clear();
    this.https.clear();
    for (const [key, rule] of rules) this.insert(key, rule);
    this.changed();
  }

  /** The rules as they are now, unaffected by later changes (a copy of each map, not of its entries). */
  frozen(): RuleEntries {
    return frozenEntries([new Map(this.bare), new Map(this.http), new Map(this.https)]);
  }

  *entries(): IterableIterator<Entry<A>> {
    yield* this.bare.values();
    yield* this.http.values();
    yield* this.https.values();
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

  private insert(key: string, rule: Rule): void {
    const entry = { key, rule, action: this.compile(key, rule) };
    if (key.startsWith("http://")) this.http.set(key.substring(7), entry);
    else if (key.startsWith("https://")) this.https.set(key.substring(8), entry);
    else this.bare.set(key, entry);
  }

  private mapFor(key: string): [Map<string, Entry<A>>, string] {
    if (key.startsWith("http://")) return [this.http, key.substring(7)];
    if (key.startsWith("https://")) return [this.https, key.substring(8)];
    return [this.bare, key];
  }
}

function* frozenEntries<A>(maps: Map<string, Entry<A>>[]): RuleEntries {
  for (const map of maps) for (const entry of map.values()) yield [entry.key, entry.rule];
}
