/**
 * Atomic, durable replacement of a file: a temp file in the same folder is
 * written and fsynced, renamed over the old file, then the folder is fsynced so
 * the rename itself survives a power cut. A reader therefore sees the old file
 * or the new one, whole, never a mix.
 */
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

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
