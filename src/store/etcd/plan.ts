/**
 * A batch of the registry's changes as etcd transactions. Set, delete and
 * backend changes are written as they are; a replaced rule set becomes the
 * difference from the rules the table holds (puts of new or changed rules,
 * deletes of the rest), so an unchanged set writes nothing. etcd takes at
 * most 128 operations (`--max-txn-ops`) and 1.5 MiB (`--max-request-bytes`)
 * per request by default: larger batches are cut into several transactions.
 */
import type { IRequestOp } from "etcd3";
import type { Change } from "../../rules/registry.ts";
import type { Rule, RuleEntries, RuleSet } from "../../rules/schema.ts";
import type { StoreKeys } from "./keys.ts";
import { encodeAdmin, encodeRule } from "./values.ts";

export interface PlanLimits {
  ops: number;
  bytes: number;
}

export const DEFAULT_PLAN_LIMITS: PlanLimits = { ops: 128, bytes: 1024 * 1024 };

/** Room for the framing of one operation inside a request. */
const OP_OVERHEAD = 16;

export interface WritePlan {
  /** Transactions to commit, in order. */
  chunks: IRequestOp[][];
  /** The plan is a difference from the table: etcd must not have moved under it. */
  fromTable: boolean;
}

export function planWrites(
  changes: readonly Change[],
  keys: StoreKeys,
  table: () => RuleEntries,
  limits: PlanLimits = DEFAULT_PLAN_LIMITS,
): WritePlan {
  let replaced: RuleSet | null = null;
  const rules = new Map<string, Rule | null>();
  const backends = new Map<string, string | null>();
  for (const change of changes) {
    if (change.kind === "replace") {
      // What came before in the batch is replaced too.
      replaced = change.rules;
      rules.clear();
    } else if (change.kind === "set") rules.set(change.key, change.rule);
    else if (change.kind === "delete") rules.set(change.key, null);
    else if (change.kind === "backend") {
      backends.set(change.key, change.admin === "enabled" ? null : encodeAdmin(change.admin));
    }
  }
  const chunks = new Chunks(limits);
  if (replaced === null) {
    for (const [host, rule] of rules) chunks.add(keys.rule(host), rule && encodeRule(rule));
  } else if (replaced.size === 0 && [...rules.values()].every((rule) => rule === null)) {
    // Nothing left: one operation however many rules there were.
    chunks.addOp({ request_delete_range: { key: keys.rules.start, range_end: keys.rules.end } }, 0);
  } else {
    difference(new Map(table()), replaced, rules, (host, rule) =>
      chunks.add(keys.rule(host), rule && encodeRule(rule)),
    );
  }
  for (const [key, value] of backends) chunks.add(keys.backend(key), value);
  return { chunks: chunks.done(), fromTable: replaced !== null };
}

/** Calls `write` for each hostname whose rule differs between `before` and the replaced set. */
function difference(
  before: Map<string, Rule>,
  replaced: RuleSet,
  later: Map<string, Rule | null>,
  write: (host: string, rule: Rule | null) => void,
): void {
  const differs = (host: string, rule: Rule) => {
    const old = before.get(host);
    return old === undefined || (old !== rule && encodeRule(old) !== encodeRule(rule));
  };
  for (const [host, rule] of replaced) {
    if (!later.has(host) && differs(host, rule)) write(host, rule);
  }
  for (const [host, rule] of later) {
    if (rule === null ? before.has(host) : differs(host, rule)) write(host, rule);
  }
  for (const host of before.keys()) {
    if (!replaced.has(host) && !later.has(host)) write(host, null);
  }
}

class Chunks {
  private readonly chunks: IRequestOp[][] = [];
  private current: IRequestOp[] = [];
  private bytes = 0;

  constructor(private readonly limits: PlanLimits) {}

  /** A put, or a delete when `value` is null. */
  add(key: string, value: string | null): void {
    const keyBytes = Buffer.from(key, "utf8");
    if (value === null) {
      this.addOp({ request_delete_range: { key: keyBytes } }, keyBytes.length);
    } else {
      const valueBytes = Buffer.from(value, "utf8");
      this.addOp(
        { request_put: { key: keyBytes, value: valueBytes } },
        keyBytes.length + valueBytes.length,
      );
    }
  }

  addOp(op: IRequestOp, size: number): void {
    const bytes = size + OP_OVERHEAD;
    const full = this.current.length >= this.limits.ops || this.bytes + bytes > this.limits.bytes;
    if (full && this.current.length > 0) {
      this.chunks.push(this.current);
      this.current = [];
      this.bytes = 0;
    }
    this.current.push(op);
    this.bytes += bytes;
  }

  done(): IRequestOp[][] {
    if (this.current.length > 0) this.chunks.push(this.current);
    return this.chunks;
  }
}
