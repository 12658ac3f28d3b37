/**
 * The state file: `{"hosts": {...}, "stats": {...}}`, the original Mantrid's format.
 *
 * Writes are atomic and durable: a temp file in the same folder is written and
 * fsynced, renamed over the old file, then the folder is fsynced so the rename
 * itself survives a power cut. A reader therefore sees the old file or the new
 * one, whole, never a mix.
 */
import { open, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { parseRuleSet, type RuleSet, type RuleTriple } from "../rules/schema.ts";
import type { StatsRecord } from "../stats/host-stats.ts";

export interface StateDocument {
  hosts: Record<string, RuleTriple>;
  stats: Record<string, StatsRecord>;
}

export interface LoadedState {
  hosts: RuleSet;
  stats: Record<string, Partial<StatsRecord>>;
  /** True when no file existed yet. */
  fresh: boolean;
}

/** A state file that cannot be used; start-up stops rather than overwrite it. */
export class StateFileError extends Error {}

export async function loadState(path: string): Promise<LoadedState> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      return { hosts: {}, stats: {}, fresh: true };
    }
    throw new StateFileError(`cannot read state file ${path}: ${(error as Error).message}`);
  }
  // The original wrote in place and could leave an empty file behind; it meant "no rules".
  if (text.trim() === "") return { hosts: {}, stats: {}, fresh: false };
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new StateFileError(`state file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw new StateFileError(`state file ${path} must hold a JSON object with "hosts"`);
  }
  const { hosts = {}, stats = {} } = document as { hosts?: unknown; stats?: unknown };
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
  return { hosts: parsed.value, stats: savedStats, fresh: false };
}

/**
 * Replaces `path` with `contents`, durably. Throws when any step fails; the old
 * file then stands. `beforeRename` lets a test stop the write at its most
 * delicate point, as a crash would.
 */
export async function writeFileDurably(
  path: string,
  contents: string | Uint8Array,
  beforeRename?: () => Promise<void>,
): Promise<void> {
  const folder = dirname(path);
  const temp = join(folder, `.${basename(path)}.${process.pid}.tmp`);
  const file = await open(temp, "w", 0o600);
  try {
    await file.writeFile(contents);
    await file.sync();
  } catch (error) {
    await file.close();
    await rm(temp, { force: true });
    throw error;
  }
  await file.close();
  await beforeRename?.();
  await rename(temp, path);
  const dir = await open(folder, "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

export async function saveState(path: string, document: StateDocument): Promise<void> {
  await writeFileDurably(path, JSON.stringify(document));
}
