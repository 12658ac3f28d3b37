/**
 * Atomic, durable replacement of a file: a temp file in the same folder is
 * written and fsynced, renamed over the old file, then the folder is fsynced so
 * the rename itself survives a power cut. A reader therefore sees the old file
 * or the new one, whole, never a mix.
 */
import { type FileHandle, open, rename, rm } from "node:fs/promises";
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
    if (Array.isArray(contents)) await writeParts(file, contents);
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

/** Parts per system call: the usual IOV_MAX. */
const PARTS_PER_WRITE = 1024;

/**
 * The parts one after another, many per system call (a 70 MB state file comes
 * in a thousand pieces). Each write starts where the one before ended.
 */
async function writeParts(file: FileHandle, parts: readonly Uint8Array[]): Promise<void> {
  for (let at = 0; at < parts.length; at += PARTS_PER_WRITE) {
    const batch = parts.slice(at, at + PARTS_PER_WRITE);
    const size = batch.reduce((sum, part) => sum + part.length, 0);
    const { bytesWritten } = await file.writev(batch);
    // A short write (a full disk, a signal) leaves the rest to writeFile, which loops.
    if (bytesWritten < size) await file.writeFile(Buffer.concat(batch).subarray(bytesWritten));
  }
}
