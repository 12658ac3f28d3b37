/**
 * The snapshot: state.json in the original format, plus `"log": "<generation>"`
 * naming the change log that continues it (`state.json.<generation>.log`).
 * Files without "log" (the original's, and older ones) load as before.
 */
import { readdir, readFile, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { parseRuleSet, type RuleSet } from "../rules/schema.ts";
import type { StatsRecord } from "../stats/host-stats.ts";
import { type StateDocument, StateFileError } from "./state-file.ts";

export interface Snapshot {
  hosts: RuleSet;
  stats: Record<string, Partial<StatsRecord>>;
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

/** Reads and validates the snapshot, with the same checks and messages as `loadState`. */
export async function readSnapshot(path: string): Promise<Snapshot> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      return { hosts: {}, stats: {}, fresh: true, log: null, bytes: 0 };
    }
    throw new StateFileError(`cannot read state file ${path}: ${(error as Error).message}`);
  }
  // The original wrote in place and could leave an empty file behind; it meant "no rules".
  if (text.trim() === "") return { hosts: {}, stats: {}, fresh: false, log: null, bytes: 0 };
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new StateFileError(`state file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw new StateFileError(`state file ${path} must hold a JSON object with "hosts"`);
  }
  const { hosts = {}, stats = {}, log = null } = document as Record<string, unknown>;
  if (log !== null && (typeof log !== "string" || !GENERATION.test(log))) {
    throw new StateFileError(`state file ${path} has an invalid "log": ${JSON.stringify(log)}`);
  }
  const parsed = parseRuleSet(hosts);
  if (!parsed.ok) {
    const first = parsed.problems[0]!;
    throw new StateFileError(
      `state file ${path} has an invalid rule at hosts/${first.path.join("/")}: ${first.message}` +
        (parsed.problems.length > 1 ? ` (and ${parsed.problems.length - 1} more)` : ""),
    );
  }
  const savedStats =
    typeof stats === "object" && stats !== null && !Array.isArray(stats)
      ? (stats as Record<string, Partial<StatsRecord>>)
      : {};
  return { hosts: parsed.value, stats: savedStats, fresh: false, log, bytes: text.length };
}

export interface Serialized {
  /** The file in slices, written one after another: no 70 MB copy to join them. */
  parts: Buffer[];
  size: number;
  rules: number;
  /** The counters as JSON, to tell later whether they changed. */
  counters: string;
}

/** Entries per slice (a few ms of work); between slices the event loop serves requests. */
const SLICE = 5_000;

/** `{"log":…,"hosts":…,"stats":…}` as UTF-8, built a slice at a time. */
export async function serializeSnapshot(
  document: StateDocument,
  generation: string,
): Promise<Serialized> {
  const slices = [Buffer.from(`{"log":${JSON.stringify(generation)},"hosts":{`)];
  let slice = "";
  let rules = 0;
  // Hostnames that share a rule share its triple: each distinct one is encoded once.
  const encoded = new Map<unknown, string>();
  for (const key in document.hosts) {
    const triple = document.hosts[key];
    let json = encoded.get(triple);
    if (json === undefined) {
      json = JSON.stringify(triple);
      encoded.set(triple, json);
    }
    slice += `${rules === 0 ? "" : ","}${JSON.stringify(key)}:${json}`;
    if (++rules % SLICE === 0) {
      slices.push(Buffer.from(slice));
      slice = "";
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  const counters = JSON.stringify(document.stats);
  slices.push(Buffer.from(`${slice}},"stats":${counters}}`));
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
