/**
 * The snapshot: state.json in the original format, plus `"log": "<generation>"`
 * naming the change log that continues it (`state.json.<generation>.log`), and
 * `"backends": {"host:port": "draining" | "disabled"}` when an operator drained
 * or disabled one. Files without them (the original's, and older ones) load as before.
 */
import { readdir, readFile, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { parseStoredBackends, type StoredAdmin } from "../backend/admin.ts";
import { scanObject, skipValue, skipWhitespace } from "../json/object-scan.ts";
import type { WholeState } from "../rules/registry.ts";
import { parseRuleSetJson } from "../rules/rule-set-json.ts";
import { type Parsed, parseRuleSet, type RuleSet } from "../rules/schema.ts";
import type { StatsRecord } from "../stats/host-stats.ts";
import { encodeHosts } from "./encode-hosts.ts";
import { StateFileError } from "./state-file.ts";

export interface Snapshot {
  hosts: RuleSet;
  stats: Record<string, Partial<StatsRecord>>;
  backends: Record<string, StoredAdmin>;
  fresh: boolean;
  /** The generation of the log that continues this snapshot, if any. */
  log: string | null;
  /** Size on disk, which prices a rewrite. */
  bytes: number;
}

const GENERATION = /^[0-9a-z]{1,40}$/;

export function logPath(statePath: string, generation: string): string {
  return `${statePath}.${generation}.log`;
}

/** Time first, so names sort by age; the random tail keeps two in one millisecond apart. */
export function newGeneration(): string {
  const random = Math.floor(Math.random() * 36 ** 6)
    .toString(36)
    .padStart(6, "0");
  return `${Date.now().toString(36)}${random}`;
}

/**
 * Reads and validates the snapshot. A missing file is no rules (`fresh`); one
 * that cannot be used throws a StateFileError naming what is wrong.
 */
export async function readSnapshot(path: string): Promise<Snapshot> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      return { hosts: new Map(), stats: {}, backends: {}, fresh: true, log: null, bytes: 0 };
    }
    throw new StateFileError(`cannot read state file ${path}: ${(error as Error).message}`);
  }
  // The original wrote in place and could leave an empty file behind; it meant "no rules".
  if (text.trim() === "") {
    return { hosts: new Map(), stats: {}, backends: {}, fresh: false, log: null, bytes: 0 };
  }
  const { fields, hosts: parsed } = readFast(text) ?? readSlow(text, path);
  const { stats = {}, log = null, backends = {} } = fields;
  if (log !== null && (typeof log !== "string" || !GENERATION.test(log))) {
    throw new StateFileError(`state file ${path} has an invalid "log": ${JSON.stringify(log)}`);
  }
  if (!parsed.ok) {
    const first = parsed.problems[0]!;
    throw new StateFileError(
      `state file ${path} has an invalid rule at hosts/${first.path.join("/")}: ${first.message}` +
        (parsed.problems.length > 1 ? ` (and ${parsed.problems.length - 1} more)` : ""),
    );
  }
  const admin = parseStoredBackends(backends);
  if (!admin.ok) {
    const first = admin.problems[0]!;
    throw new StateFileError(
      `state file ${path} has an invalid backend state at backends/${first.path.join("/")}: ` +
        first.message,
    );
  }
  const savedStats =
    typeof stats === "object" && stats !== null && !Array.isArray(stats)
      ? (stats as Record<string, Partial<StatsRecord>>)
      : {};
  return {
    hosts: parsed.value,
    stats: savedStats,
    backends: admin.value,
    fresh: false,
    log,
    bytes: text.length,
  };
}

interface Fields {
  /** The top-level members other than "hosts". */
  fields: Record<string, unknown>;
  hosts: Parsed<RuleSet>;
}

/** The snapshot without an object per hostname (see `parseRuleSetJson`); null when it declines. */
function readFast(text: string): Fields | null {
  const fields: Record<string, unknown> = {};
  let hosts: Parsed<RuleSet> = { ok: true, value: new Map() };
  const end = scanObject(text, 0, (key, at) => {
    if (key === "hosts") {
      const rules = parseRuleSetJson(text, at);
      if (rules === null) return -1;
      hosts = rules.parsed;
      return rules.end;
    }
    const valueEnd = skipValue(text, at);
    if (valueEnd < 0) return -1;
    try {
      fields[key] = JSON.parse(text.slice(at, valueEnd));
    } catch {
      return -1;
    }
    return valueEnd;
  });
  return end >= 0 && skipWhitespace(text, end) === text.length ? { fields, hosts } : null;
}

/** The snapshot through `JSON.parse`, which words what is wrong with it. */
function readSlow(text: string, path: string): Fields {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new StateFileError(`state file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw new StateFileError(`state file ${path} must hold a JSON object with "hosts"`);
  }
  const { hosts = {}, ...fields } = document as Record<string, unknown>;
  return { fields, hosts: parseRuleSet(hosts) };
}

export interface Serialized {
  /** The file in slices, written one after another: no 70 MB copy to join them. */
  parts: Uint8Array[];
  size: number;
  rules: number;
  /** The counters as JSON, to tell later whether they changed. */
  counters: string;
}

/** `{"log":…,"hosts":…,"stats":…,"backends":…}` as UTF-8, built a slice at a time. */
export async function serializeSnapshot(
  document: WholeState,
  generation: string,
): Promise<Serialized> {
  const slices: Uint8Array[] = [Buffer.from(`{"log":${JSON.stringify(generation)},"hosts":`)];
  const rules = await encodeHosts(document.hosts, slices);
  const counters = JSON.stringify(document.stats);
  // Left out while every backend is enabled: such a file is exactly the original's format.
  const admin = Object.keys(document.backends).length > 0;
  const backends = admin ? `,"backends":${JSON.stringify(document.backends)}` : "";
  slices.push(Buffer.from(`,"stats":${counters}${backends}}`));
  return {
    parts: slices,
    size: slices.reduce((sum, part) => sum + part.length, 0),
    rules,
    counters,
  };
}

/**
 * Removes logs other than `keep` and temp files of interrupted writes: leftovers
 * of a compaction that a crash cut short. Best effort; they are ignored anyway.
 */
export async function removeLeftovers(statePath: string, keep: string | null): Promise<void> {
  const folder = dirname(statePath);
  const name = basename(statePath);
  let entries: string[];
  try {
    entries = await readdir(folder);
  } catch {
    return;
  }
  for (const entry of entries) {
    const log = entry.startsWith(`${name}.`) && entry.endsWith(".log");
    const generation = log ? entry.slice(name.length + 1, -4) : "";
    const leftoverLog = log && GENERATION.test(generation) && generation !== keep;
    const temp = entry.startsWith(`.${name}.`) && /^\d+\.tmp$/.test(entry.slice(name.length + 2));
    if (leftoverLog || temp) await rm(join(folder, entry), { force: true }).catch(() => {});
  }
}
