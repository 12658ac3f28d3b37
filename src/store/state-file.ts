/**
 * The state file: `{"hosts": {...}, "stats": {...}}`, the original Mantrid's format.
 *
 * Writes are atomic and durable: a temp file in the same folder is written and
 * fsynced, renamed over the old file, then the folder is fsynced so the rename
 * itself survives a power cut. A reader therefore sees the old file or the new
 * one, whole, never a mix.
 */
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { type RuleEntries, type RuleSet, toTriples } from "../rules/schema.ts";
import type { StatsRecord } from "../stats/host-stats.ts";
import { readSnapshot } from "./snapshot.ts";

export interface StateDocument {
  hosts: RuleEntries;
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

/** The rules and counters of a state file (its snapshot only; the store replays any log). */
export async function loadState(path: string): Promise<LoadedState> {
  const { hosts, stats, fresh } = await readSnapshot(path);
  return { hosts, stats, fresh };
}

/**
 * Replaces `path` with `contents`, durably. Throws when any step fails; the old
 * file then stands. `beforeRename` lets a test stop the write at its most
 * delicate point, as a crash would.
 */
export async function writeFileDurably(
  path: string,
  contents: string | Uint8Array | readonly Uint8Array[],
  beforeRename?: () => Promise<void>,
): Promise<void> {
  const folder = dirname(path);
  const temp = join(folder, `.${basename(path)}.${process.pid}.tmp`);
  const file = await open(temp, "w", 0o600);
  try {
    // Each writeFile writes all of its part, from where the previous one ended.
    if (Array.isArray(contents)) for (const part of contents) await file.writeFile(part);
    else await file.writeFile(contents as string | Uint8Array);
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

/** The whole state as one file in the original format, without a log. */
export async function saveState(path: string, document: StateDocument): Promise<void> {
  await writeFileDurably(path, JSON.stringify({ ...document, hosts: toTriples(document.hosts) }));
}
