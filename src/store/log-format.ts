/**
 * The change log's format: one line per batch, `<crc32 as 8 hex digits> <JSON array>\n`,
 * the array holding the batch's changes in order:
 *
 *   {"set": host, "rule": [action, options, subdomains]} | {"delete": host}
 *   {"replace": {host: [...]}} | {"stats": {host: {...}}}
 *   {"backend": "host:port", "admin": "enabled" | "draining" | "disabled"}
 *
 * A batch is one line, written by one append, so a crash can only damage the
 * last line: JSON never holds a raw newline and a lost page reads as zeros,
 * so the damage stays within it. A damaged line with anything after it is real
 * corruption, never a torn write.
 */
import { isAdminState, parseBackendKey, type StoredAdmin } from "../backend/admin.ts";
import type { AdminState } from "../backend/state.ts";
import type { Change } from "../rules/registry.ts";
import {
  type Parsed,
  parseHostname,
  parseRule,
  parseRuleSet,
  type Rule,
  type RuleSet,
  type RuleTriple,
  toTriple,
  toTriples,
} from "../rules/schema.ts";
import type { StatsRecord } from "../stats/host-stats.ts";
import { StateFileError } from "./state-file.ts";

export type Entry =
  | { set: string; rule: RuleTriple }
  | { delete: string }
  | { replace: Record<string, RuleTriple> }
  | { stats: Record<string, StatsRecord> }
  | { backend: string; admin: AdminState };

/** The entries that record `changes`; `none` records nothing (counters are added apart). */
export function toEntries(changes: readonly Change[]): Entry[] {
  const entries: Entry[] = [];
  for (const change of changes) {
    switch (change.kind) {
      case "set":
        entries.push({ set: change.key, rule: toTriple(change.rule) });
        break;
      case "delete":
        entries.push({ delete: change.key });
        break;
      case "replace":
        entries.push({ replace: toTriples(change.rules) });
        break;
      case "backend":
        entries.push({ backend: change.key, admin: change.admin });
        break;
      case "none":
        break;
    }
  }
  return entries;
}

const SPACE = 0x20;
const NEWLINE = 0x0a;

/** One batch as the bytes of one line. */
export function encodeBatch(entries: readonly Entry[]): Buffer {
  const json = Buffer.from(JSON.stringify(entries));
  const prefix = `${Bun.hash.crc32(json).toString(16).padStart(8, "0")} `;
  const line = Buffer.allocUnsafe(prefix.length + json.length + 1);
  line.write(prefix, 0, "latin1");
  json.copy(line, prefix.length);
  line[line.length - 1] = NEWLINE;
  return line;
}

export interface DecodedLog {
  batches: unknown[][];
  /** Bytes up to the end of the last good line: where the next append goes. */
  validLength: number;
  /** A torn last line (a crash during its append) was found and left out. */
  torn: boolean;
}

export function decodeLog(bytes: Buffer, name: string): DecodedLog {
  const batches: unknown[][] = [];
  let position = 0;
  while (position < bytes.length) {
    const end = bytes.indexOf(NEWLINE, position);
    if (end === -1) return { batches, validLength: position, torn: true };
    const batch = decodeLine(bytes, position, end);
    if (batch === null) {
      if (end + 1 === bytes.length) return { batches, validLength: position, torn: true };
      throw new StateFileError(
        `log ${name} is damaged: record ${batches.length + 1} (at byte ${position}) fails its ` +
          "check and is not the last one, so it is not a torn write; restore the file from a backup",
      );
    }
    batches.push(batch);
    position = end + 1;
  }
  return { batches, validLength: position, torn: false };
}

function decodeLine(bytes: Buffer, start: number, end: number): unknown[] | null {
  if (end - start < 10 || bytes[start + 8] !== SPACE) return null;
  const crc = bytes.toString("latin1", start, start + 8);
  if (!/^[0-9a-f]{8}$/.test(crc)) return null;
  const json = bytes.subarray(start + 9, end);
  if (Bun.hash.crc32(json) !== Number.parseInt(crc, 16)) return null;
  try {
    const batch: unknown = JSON.parse(json.toString("utf8"));
    return Array.isArray(batch) ? batch : null;
  } catch {
    return null;
  }
}

export interface ReplayTarget {
  hosts: RuleSet;
  stats: Record<string, Partial<StatsRecord>>;
  backends: Record<string, StoredAdmin>;
}

/** Applies decoded batches in order, validating each rule as the snapshot's are. */
export function replay(target: ReplayTarget, batches: readonly unknown[][], name: string): void {
  // Many hosts share a few rules: each distinct one is validated once.
  const checked = new Map<string, Parsed<Rule>>();
  batches.forEach((batch, index) => {
    for (const entry of batch)
      applyEntry(target, entry, `log ${name} record ${index + 1}`, checked);
  });
}

function applyEntry(
  target: ReplayTarget,
  entry: unknown,
  where: string,
  checked: Map<string, Parsed<Rule>>,
): void {
  const fail = (message: string): never => {
    throw new StateFileError(`${where}: ${message}`);
  };
  if (typeof entry !== "object" || entry === null) return fail("not a change");
  const record = entry as Record<string, unknown>;
  if ("set" in record) {
    const host = hostname(record.set, fail);
    const text = JSON.stringify(record.rule);
    const rule = checked.get(text) ?? parseRule(record.rule);
    checked.set(text, rule);
    if (!rule.ok) {
      const first = rule.problems[0]!;
      return fail(`invalid rule for ${host} at ${first.path.join("/")}: ${first.message}`);
    }
    target.hosts.set(host, rule.value);
  } else if ("delete" in record) {
    const host = hostname(record.delete, fail);
    target.hosts.delete(host);
  } else if ("replace" in record) {
    const rules = parseRuleSet(record.replace);
    if (!rules.ok) {
      const first = rules.problems[0]!;
      return fail(`invalid rule at ${first.path.join("/")}: ${first.message}`);
    }
    target.hosts = rules.value;
  } else if ("stats" in record) {
    const stats = record.stats;
    if (typeof stats !== "object" || stats === null || Array.isArray(stats)) {
      return fail("stats must be an object");
    }
    target.stats = stats as Record<string, Partial<StatsRecord>>;
  } else if ("backend" in record) {
    const key = typeof record.backend === "string" ? parseBackendKey(record.backend) : null;
    if (!key?.ok) return fail(`invalid backend address ${JSON.stringify(record.backend)}`);
    if (!isAdminState(record.admin)) return fail(`invalid backend state for ${key.value}`);
    if (record.admin === "enabled") delete target.backends[key.value];
    else target.backends[key.value] = record.admin;
  } else {
    fail(`unknown change ${JSON.stringify(Object.keys(record))}`);
  }
}

function hostname(value: unknown, fail: (message: string) => never): string {
  const parsed = parseHostname(value);
  return parsed.ok ? parsed.value : fail(`invalid hostname ${JSON.stringify(value)}`);
}
