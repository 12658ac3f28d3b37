/**
 * The access log: one JSON line per request (see access-line.ts), gathered in
 * memory and written in batches, every FLUSH_MS or as soon as FLUSH_BYTES
 * wait. The request path only appends to a string: it never waits for a
 * write. What cannot be written is dropped and counted, never queued without
 * bound: lines beyond MAX_PENDING_BYTES waiting (the disk is slower than the
 * traffic), and a batch whose write fails (ENOSPC, EIO). The server log says
 * once when dropping starts and once when writing works again.
 *
 * `reopen()` (SIGUSR1, after logrotate renamed the file) opens the path anew
 * between two writes: a batch already on its way ends in the old file, the
 * next one starts the new file, and no line is lost.
 */
import { log } from "../log.ts";
import { formatAccessLine } from "./access-line.ts";
import { type LogWriter, openLogWriter, WriteFailed } from "./log-writer.ts";
import type { RequestEnd, RequestObserver } from "./request-end.ts";

export const FLUSH_MS = 100;
export const FLUSH_BYTES = 64 * 1024;
export const MAX_PENDING_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;

/** Opens the access log at `path` (`-`: stderr); a path that cannot be opened is a ConfigError. */
export function openAccessLog(path: string): AccessLog {
  return new AccessLog(openLogWriter(path));
}

export class AccessLog implements RequestObserver {
  /** Lines written, and lines dropped, since start. */
  written = 0;
  dropped = 0;
  /** Lines waiting for the next write (UTF-16 length stands in for bytes). */
  private batch = "";
  private batchLines = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** A write or a reopen is under way; the loop in `pump` looks again when it ends. */
  private busy = false;
  private closing = false;
  private readonly reopens: (() => void)[] = [];
  private readonly idle: (() => void)[] = [];
  /** Why lines are being dropped now (null: they are not), and how many so far. */
  private dropping: string | null = null;
  private droppedInStreak = 0;
  private readonly onTimer = () => {
    this.timer = null;
    this.kick();
  };

  constructor(private readonly writer: LogWriter) {}

  requestEnded(request: RequestEnd): void {
    if (this.closing) return;
    if (this.batch.length >= MAX_PENDING_BYTES) {
      this.drop(1, `more than ${MAX_PENDING_BYTES >> 20} MiB waits to be written`);
      return;
    }
    this.batch += formatAccessLine(request);
    this.batchLines++;
    if (this.batch.length >= FLUSH_BYTES) this.kick();
    else if (this.timer === null && !this.busy) this.armTimer();
  }

  /** Opens the file again (SIGUSR1); resolves once lines go to the new one. */
  reopen(): Promise<void> {
    if (this.closing) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.reopens.push(resolve);
    this.kick();
    return promise;
  }

  /** Writes what waits now, without waiting for the timer. */
  async flush(): Promise<void> {
    while (this.busy || this.batchLines > 0) {
      const { promise, resolve } = Promise.withResolvers<void>();
      this.idle.push(resolve);
      this.kick();
      await promise;
    }
  }

  /** Writes what waits, then closes the file; lines ending after this are not logged. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.flush();
    await this.writer.close();
    if (this.dropped > 0) {
      log.warn(`access log ${this.writer.name}: ${this.dropped} lines dropped in all`);
    }
  }

  private armTimer(): void {
    this.timer = setTimeout(this.onTimer, FLUSH_MS);
    this.timer.unref();
  }

  private kick(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.busy) return;
    this.busy = true;
    void this.pump();
  }

  /** Writes batches (and reopens) one at a time, until nothing urgent is left. */
  private async pump(): Promise<void> {
    try {
      for (;;) {
        if (this.reopens.length > 0) {
          const waiting = this.reopens.splice(0);
          await this.reopenWriter();
          for (const resolve of waiting) resolve();
        }
        if (this.batchLines === 0) break;
        const text = this.batch;
        const lines = this.batchLines;
        this.batch = "";
        this.batchLines = 0;
        await this.writeBatch(text, lines);
        const urgent = this.closing || this.reopens.length > 0 || this.batch.length >= FLUSH_BYTES;
        if (!urgent) break;
      }
    } finally {
      this.busy = false;
      if (this.batchLines > 0 && !this.closing && this.timer === null) this.armTimer();
      for (const resolve of this.idle.splice(0)) resolve();
    }
  }

  private async writeBatch(text: string, lines: number): Promise<void> {
    const data = Buffer.from(text);
    const droppedBefore = this.dropped;
    let offset = 0;
    while (offset < data.length) {
      const end = chunkEnd(data, offset, this.writer.atomicBytes);
      try {
        await this.writer.write(data.subarray(offset, end));
        offset = end;
      } catch (error) {
        // The rest of the batch goes: a line cut short counts as dropped too.
        const sent = error instanceof WriteFailed ? error.written : 0;
        const lost = countLines(data, offset + sent);
        this.written += lines - lost;
        this.drop(lost, `cannot write (${describe(error)})`);
        return;
      }
    }
    this.written += lines;
    // Back to normal only after a write during which nothing had to be dropped.
    if (this.dropping !== null && this.dropped === droppedBefore) {
      log.warn(
        `access log ${this.writer.name}: writing again; ${this.droppedInStreak} lines dropped`,
      );
      this.dropping = null;
      this.droppedInStreak = 0;
    }
  }

  private drop(lines: number, why: string): void {
    this.dropped += lines;
    this.droppedInStreak += lines;
    if (this.dropping !== null) return;
    this.dropping = why;
    log.warn(`access log ${this.writer.name}: ${why}: dropping lines until it can be written`);
  }

  private async reopenWriter(): Promise<void> {
    try {
      if (await this.writer.reopen()) log.info(`access log ${this.writer.name} reopened`);
    } catch (error) {
      log.warn(
        `access log ${this.writer.name}: cannot reopen (${describe(error)}); ` +
          "still writing to the file it had open",
      );
    }
  }
}

/** Where a write starting at `offset` ends: at most `limit` bytes, cut after a line. */
export function chunkEnd(data: Uint8Array, offset: number, limit: number): number {
  if (data.length - offset <= limit) return data.length;
  const last = data.lastIndexOf(NEWLINE, offset + limit - 1);
  if (last >= offset) return last + 1;
  // One line longer than the limit goes whole, in a write of its own.
  const next = data.indexOf(NEWLINE, offset);
  return next < 0 ? data.length : next + 1;
}

/** Lines ending at or after `from` (a line cut short counts). */
function countLines(data: Uint8Array, from: number): number {
  let count = 0;
  for (let i = data.indexOf(NEWLINE, from); i >= 0; i = data.indexOf(NEWLINE, i + 1)) count++;
  return count;
}

/** "ENOSPC: no space left on device" (the system's message, which may already name its code). */
function describe(error: unknown): string {
  const code = error instanceof WriteFailed ? error.code : (error as NodeJS.ErrnoException)?.code;
  const message = (error instanceof Error ? error.message : String(error)).replace(
    /, \w+(?: '.*')?$/s,
    "",
  );
  return code === undefined || message.startsWith(code) ? message : `${code}: ${message}`;
}
