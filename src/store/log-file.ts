/**
 * One change log on disk, appended to at a known offset. An append is durable
 * when it resolves; when it fails, the file is cut back to where it was, so a
 * rejected batch never shows up in a later load.
 */
import { type FileHandle, open, readFile, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { type DecodedLog, decodeLog } from "./log-format.ts";
import { StateFileError } from "./state-file.ts";

export class LogFile {
  /** Set once a failure leaves the file's durable contents unknown; appends then refuse. */
  private broken: Error | null = null;

  private constructor(
    readonly path: string,
    private readonly file: FileHandle,
    /** Bytes known to be on disk. */
    public size: number,
  ) {}

  /** Opens an existing log, reading it; a torn last line is cut off before any append. */
  static async open(path: string): Promise<{ log: LogFile; decoded: DecodedLog }> {
    let bytes: Buffer;
    let file: FileHandle;
    try {
      bytes = await readFile(path);
      file = await open(path, "r+");
    } catch (error) {
      const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
      throw new StateFileError(
        missing
          ? `the state file names the log ${path}, which is missing: restore it, or remove ` +
              '"log" from the state file to load the snapshot without its later changes'
          : `cannot open log ${path}: ${(error as Error).message}`,
      );
    }
    try {
      const decoded = decodeLog(bytes, path);
      if (decoded.torn) {
        await file.truncate(decoded.validLength);
        await file.sync();
      }
      return { log: new LogFile(path, file, decoded.validLength), decoded };
    } catch (error) {
      await file.close();
      throw error;
    }
  }

  /** A new log holding `initial`, durable with its folder entry, before anything names it. */
  static async create(path: string, initial: Uint8Array): Promise<LogFile> {
    const file = await open(path, "wx", 0o600);
    const log = new LogFile(path, file, 0);
    try {
      if (initial.length > 0) await log.writeAt(initial, 0);
      await file.sync();
      await syncFolder(dirname(path));
    } catch (error) {
      await log.close();
      await rm(path, { force: true });
      throw error;
    }
    log.size = initial.length;
    return log;
  }

  async append(bytes: Uint8Array): Promise<void> {
    if (this.broken) throw this.broken;
    try {
      await this.writeAt(bytes, this.size);
    } catch (error) {
      await this.cutBack();
      throw error;
    }
    try {
      await this.file.datasync();
    } catch (error) {
      // After a failed sync the page cache cannot be trusted either way: stop here.
      this.broken = new Error(`log ${this.path} could not be synced: ${(error as Error).message}`);
      await this.cutBack();
      throw error;
    }
    this.size += bytes.length;
  }

  async close(): Promise<void> {
    await this.file.close().catch(() => {});
  }

  private async writeAt(bytes: Uint8Array, position: number): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.file.write(
        bytes,
        done,
        bytes.length - done,
        position + done,
      );
      done += bytesWritten;
    }
  }

  private async cutBack(): Promise<void> {
    try {
      await this.file.truncate(this.size);
    } catch (error) {
      this.broken ??= new Error(
        `log ${this.path} could not be cut back after a failed write: ${(error as Error).message}`,
      );
    }
  }
}

export async function syncFolder(folder: string): Promise<void> {
  const dir = await open(folder, "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
