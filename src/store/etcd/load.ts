/**
 * The whole table as etcd holds it at one revision, read page by page (a
 * million rules do not fit one answer), each page under its own deadline and
 * all at the revision of the first, so the pages make one consistent picture.
 */
import type { IKeyValue } from "etcd3";
import { parseBackendKey, type StoredAdmin } from "../../backend/admin.ts";
import { log } from "../../log.ts";
import type { Change } from "../../rules/registry.ts";
import type { RuleSet } from "../../rules/schema.ts";
import { CALL_MS, deadline, type EtcdClient, PAGE_MS } from "./client.ts";
import { keyAfter, type StoreKeys } from "./keys.ts";
import { decodeAdmin, RuleReader, storedHostname } from "./values.ts";

export interface SharedState {
  /** The etcd revision the state is as of. */
  revision: number;
  rules: RuleSet;
  backends: Record<string, StoredAdmin>;
}

/** Where whole reads come from; the watch is stopped while one is made. */
export interface Reloader {
  /** Reads the whole state, trying until it works; null once the store is closing. */
  load(): Promise<SharedState | null>;
  /** The table is at `revision`: watch from the next one. */
  loaded(revision: number): void;
}

/** Keys in the first page: about a megabyte of rules. */
const FIRST_PAGE_KEYS = 10_000;
/**
 * etcd (3.4) goes through every key from a page's first to the end of the
 * range to answer each page (it counts them), so a large table is read in
 * about this many pages, not in a hundred small ones.
 */
const PAGES = 8;
/** …each at most this large (about 25 MB). */
const MAX_PAGE_KEYS = 200_000;

export async function loadShared(
  client: EtcdClient,
  keys: StoreKeys,
  firstPageKeys = FIRST_PAGE_KEYS,
): Promise<SharedState> {
  const table = new TableReader(keys);
  const fetch = (from: Buffer, limit: number, revision: number) =>
    client.etcd.kv.range(
      { key: from, range_end: keys.all.end, limit, revision },
      // The first answer also tells whether etcd is there at all: no long wait for it.
      deadline(revision === 0 ? CALL_MS : PAGE_MS),
    );
  let page = await fetch(keys.all.start, firstPageKeys, 0);
  const revision = Number(page.header.revision);
  const remaining = Math.ceil(Number(page.count) / PAGES);
  const limit = Math.min(MAX_PAGE_KEYS, Math.max(firstPageKeys, remaining));
  for (;;) {
    const last = page.kvs[page.kvs.length - 1];
    // The next page is asked for before this one is read: etcd works meanwhile.
    const next =
      page.more && last !== undefined ? fetch(keyAfter(last.key), limit, revision) : null;
    next?.catch(() => {});
    for (const kv of page.kvs) table.add(kv);
    if (next === null) break;
    page = await next;
  }
  table.skipped.report();
  return { revision, rules: table.rules, backends: table.backends };
}

/** Rules and backend states from their keys and values. */
class TableReader {
  readonly rules: RuleSet = new Map();
  readonly backends: Record<string, StoredAdmin> = {};
  readonly skipped = new Skipped();
  private readonly reader = new RuleReader();

  constructor(private readonly keys: StoreKeys) {}

  add(kv: IKeyValue): void {
    const key = this.keys.parse(kv.key);
    if (key === null) return;
    if (key.kind === "rule") {
      const host = storedHostname(key.host);
      const rule = this.reader.read(kv.value);
      if (!rule.ok) this.skipped.add(kv.key, rule.problems[0]!.message);
      else if (host === null) this.skipped.add(kv.key, "not a hostname");
      else this.rules.set(host, rule.value);
    } else {
      const address = parseBackendKey(key.key);
      const admin = decodeAdmin(kv.value);
      if (address.ok && address.value === key.key && admin !== null) this.backends[key.key] = admin;
      else this.skipped.add(kv.key, admin === null ? "not a backend state" : "not an address");
    }
  }
}

/** Keys that could not be used, told once per read rather than once per key. */
class Skipped {
  private count = 0;
  private first = "";

  add(key: Buffer, why: string): void {
    if (this.count++ === 0) this.first = `${key.toString("utf8")} (${why})`;
  }

  report(): void {
    if (this.count === 0) return;
    const more = this.count > 1 ? ` and ${this.count - 1} more` : "";
    log.warn(`etcd: skipped keys whose value Mantrid cannot use: ${this.first}${more}`);
  }
}

/** The changes that turn a table with backend states `before` into `state`. */
export function changesTo(state: SharedState, before: Record<string, StoredAdmin>): Change[] {
  const changes: Change[] = [{ kind: "replace", rules: state.rules }];
  for (const key of Object.keys(before)) {
    if (!(key in state.backends)) changes.push({ kind: "backend", key, admin: "enabled" });
  }
  for (const [key, admin] of Object.entries(state.backends)) {
    changes.push({ kind: "backend", key, admin });
  }
  return changes;
}
