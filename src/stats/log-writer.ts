/**
 * Where access log lines go: a file opened for appending, or stderr. Writes
 * run on node:fs's thread pool, off the event loop, so a slow or full disk
 * never holds up a request. A file is opened with O_APPEND: each write lands
 * whole at the end, so processes sharing it (workers) never mix their lines.
 */
import fs from "node:fs";
import { ConfigError } from "../config/config.ts";
import { describeFileError, isSystemError } from "../system/file-error.ts";

export interface LogWriter {
  /** Where, for the server log: the path, or "stderr". */
  readonly name: string;
  /**
   * The largest write that is never split nor mixed with another process's
   * (a pipe's PIPE_BUF for stderr); longer batches are cut at line ends.
   */
  readonly atomicBytes: number;
  /** Writes all of `data`, or rejects with a WriteFailed that says how much went out. */
  write(data: Uint8Array): Promise<void>;
  /** Opens the path again, after logrotate renamed the file; false for stderr (nothing to do). */
  reopen(): Promise<boolean>;
  close(): Promise<void>;
}

export class WriteFailed extends Error {
  constructor(
    /** The system's code: ENOSPC, EIO, EAGAIN... */
    readonly code: string,
    /** Bytes of the data written before the failure. */
    readonly written: number,
    message: string,
  ) {
    super(message);
  }
}

/** Writes of at most this many bytes to a pipe are atomic (POSIX PIPE_BUF on Linux). */
const PIPE_BUF = 4096;
/** stderr may be a non-blocking pipe: a full one is tried again this often, this many times. */
const RETRY_MS = 10;
const RETRIES = 100;
const MODE = 0o640;

/** Opens `path` for appending (created if missing); `-` is stderr. Throws a ConfigError. */
export function openLogWriter(path: string): LogWriter {
  if (path === "-") return new FdWriter("stderr", 2, PIPE_BUF, null);
  try {
    return new FdWriter(path, fs.openSync(path, "a", MODE), Number.POSITIVE_INFINITY, path);
  } catch (error) {
    if (!isSystemError(error)) throw error;
    const hint = "change access_log (or --access-log), or create the folder with write access";
    throw new ConfigError(describeFileError(error, `open the access log ${path}`, hint));
  }
}

class FdWriter implements LogWriter {
  constructor(
    readonly name: string,
    private fd: number,
    readonly atomicBytes: number,
    private readonly path: string | null,
  ) {}

  write(data: Uint8Array): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const fd = this.fd;
    let offset = 0;
    let retries = 0;
    const step = (): void => {
      fs.write(fd, data, offset, data.length - offset, null, (error, written) => {
        if (error === null && written > 0) {
          offset += written;
          retries = 0;
          if (offset >= data.length) resolve();
          else step();
          return;
        }
        const code = error?.code ?? "EAGAIN";
        if (code === "EAGAIN" && retries++ < RETRIES) {
          setTimeout(step, RETRY_MS);
          return;
        }
        reject(new WriteFailed(code, offset, error?.message ?? "the write made no progress"));
      });
    };
    step();
    return promise;
  }

  async reopen(): Promise<boolean> {
    if (this.path === null) return false;
    const path = this.path;
    const fresh = await new Promise<number>((resolve, reject) =>
      fs.open(path, "a", MODE, (error, fd) => (error ? reject(error) : resolve(fd))),
    );
    const old = this.fd;
    this.fd = fresh;
    await closeFd(old);
    return true;
  }

  close(): Promise<void> {
    return this.path === null ? Promise.resolve() : closeFd(this.fd);
  }
}

function closeFd(fd: number): Promise<void> {
  return new Promise((resolve) => fs.close(fd, () => resolve()));
}
