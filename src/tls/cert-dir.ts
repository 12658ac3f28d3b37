/**
 * cert_dir: its certificates serve with source "dir", read at start, again a
 * moment after each change (fs.watch, debounced), and on `rescan()` (SIGHUP).
 * A file that does not parse may be half-written: it is looked at again until
 * a deadline, then reported in one line; the name's previous certificate, if
 * any, keeps serving. A name whose files are all gone stops serving.
 *
 * Ten thousand files cost what they must and no more: they are read a batch at
 * a time, only a name whose files changed is checked again (a digest of them
 * is kept, not their text), and many changes are told in one line.
 */
import { type FSWatcher, watch } from "node:fs";
import { log } from "../log.ts";
import type { CertificateCatalog } from "./catalog.ts";
import {
  type FolderListing,
  type FolderProblem,
  listCertDir,
  problemOf,
  readEntries,
} from "./cert-dir-files.ts";
import { ChangeLines } from "./cert-dir-lines.ts";

export interface CertDirOptions {
  /** Quiet time after a change before the folder is read again. */
  debounceMs?: number;
  /** How long a bad file may still be being written before it is reported. */
  settleMs?: number;
  /** How often a bad file is looked at again meanwhile. */
  retryMs?: number;
  /** Told of each problem as it is logged. */
  onProblem?: (problem: FolderProblem) => void;
}

/** A problem found by a look at the folder, with the digest of the files at fault (0 when unread). */
interface Found {
  readonly problem: FolderProblem;
  readonly digest: bigint;
}

/** A problem seen, and whether its line is written yet. */
interface Pending {
  readonly key: string;
  readonly since: number;
  reported: boolean;
}

const DEFAULTS = { debounceMs: 200, settleMs: 5_000, retryMs: 500 };
/** However often the folder changes, it is read at least this many debounces after the first change. */
const DEBOUNCE_CAP = 5;

export class CertDir {
  /** The digest of the files each name's serving certificate was read from. */
  private readonly served = new Map<string, bigint>();
  /** Problems by the files' label. */
  private readonly pending = new Map<string, Pending>();
  private readonly options: Required<Omit<CertDirOptions, "onProblem">>;
  private watcher: FSWatcher | null = null;
  private debounce: ReturnType<typeof setTimeout> | null = null;
  private firstChange = 0;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private tail: Promise<void> = Promise.resolve();
  private stopped = false;
  private folderProblem: string | null = null;

  constructor(
    readonly folder: string,
    private readonly catalog: CertificateCatalog,
    private readonly hooks: CertDirOptions = {},
  ) {
    this.options = { ...DEFAULTS, ...definedOf(hooks) };
  }

  /** Reads the folder (every problem reported at once), then watches it. */
  async start(): Promise<void> {
    await this.rescan();
  }

  /** Reads the folder now, and reports each problem it finds, even one reported before. */
  rescan(): Promise<void> {
    this.watch();
    return this.scan(true);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = null;
    if (this.debounce !== null) clearTimeout(this.debounce);
    if (this.retry !== null) clearTimeout(this.retry);
    await this.tail;
  }

  private watch(): void {
    if (this.watcher !== null || this.stopped) return;
    try {
      this.watcher = watch(this.folder, { persistent: false }, () => this.changed());
    } catch (error) {
      this.lostWatch(error);
      return;
    }
    this.watcher.on("error", (error) => this.lostWatch(error));
  }

  private lostWatch(error: unknown): void {
    this.watcher?.close();
    this.watcher = null;
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    log.warn(`cert_dir: cannot watch ${this.folder} (${reason}); SIGHUP reads it again`);
  }

  private changed(): void {
    if (this.stopped) return;
    const now = performance.now();
    if (this.debounce === null) this.firstChange = now;
    else clearTimeout(this.debounce);
    const latest = this.firstChange + this.options.debounceMs * DEBOUNCE_CAP;
    const wait = Math.max(0, Math.min(this.options.debounceMs, latest - now));
    this.debounce = setTimeout(() => {
      this.debounce = null;
      void this.scan(false);
    }, wait);
    this.debounce.unref();
  }

  private scan(reportAll: boolean): Promise<void> {
    const step = this.tail.then(() => (this.stopped ? undefined : this.scanOnce(reportAll)));
    this.tail = step.catch((error) =>
      log.error(`cert_dir: reading ${this.folder} failed: ${error}`),
    );
    return this.tail;
  }

  private async scanOnce(reportAll: boolean): Promise<void> {
    let listing: FolderListing;
    try {
      listing = await listCertDir(this.folder);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? String(error);
      if (reportAll || this.folderProblem !== reason) {
        log.warn(`cert_dir: cannot read ${this.folder} (${reason}); its certificates keep serving`);
      }
      this.folderProblem = reason;
      return;
    }
    this.folderProblem = null;
    const now = Date.now();
    const present = new Set<string>();
    const problems: Found[] = [];
    const lines = new ChangeLines(this.folder);
    const seen = (found: Found) => {
      if (found.problem.name !== null) present.add(found.problem.name);
      problems.push(found);
    };
    for (const problem of listing.problems) seen({ problem, digest: 0n });
    for await (const batch of readEntries(this.folder, listing.entries)) {
      // Stopped half-way: what was not read must not count as gone.
      if (this.stopped) return lines.write();
      for (const files of batch) {
        if (!("digest" in files)) {
          seen({ problem: files, digest: 0n });
          continue;
        }
        present.add(files.name);
        if (this.served.get(files.name) === files.digest) continue;
        try {
          const certificate = files.parse(now);
          this.served.set(files.name, files.digest);
          this.catalog.put(certificate);
          lines.served(files.label, certificate);
        } catch (error) {
          seen({ problem: problemOf(files, error), digest: files.digest });
        }
      }
    }
    for (const name of [...this.served.keys()]) {
      if (present.has(name)) continue;
      this.served.delete(name);
      this.catalog.remove(name, "dir");
      lines.gone(name);
    }
    lines.write();
    this.settle(problems, reportAll, now);
  }

  /** Reports the problems that are old enough (all of them for `reportAll`), and looks again for the rest. */
  private settle(found: Found[], reportAll: boolean, now: number) {
    const before = new Map(this.pending);
    this.pending.clear();
    let nextLook = Number.POSITIVE_INFINITY;
    for (const { problem, digest } of found) {
      // A file that changed is a new problem, even with the same message.
      const key = `${problem.message}\0${digest}`;
      const known = before.get(problem.label);
      const pending = known?.key === key ? known : { key, since: now, reported: false };
      this.pending.set(problem.label, pending);
      const due = reportAll || now - pending.since >= this.options.settleMs;
      if (due && (reportAll || !pending.reported)) {
        pending.reported = true;
        this.report(problem);
      } else if (!pending.reported) {
        nextLook = Math.min(nextLook, pending.since + this.options.settleMs - now);
      }
    }
    if (this.retry !== null) clearTimeout(this.retry);
    this.retry = null;
    if (nextLook === Number.POSITIVE_INFINITY || this.stopped) return;
    const wait = Math.max(0, Math.min(this.options.retryMs, nextLook));
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.scan(false);
    }, wait);
    this.retry.unref();
  }

  private report(problem: FolderProblem): void {
    let outcome = "ignored";
    if (problem.name !== null) {
      outcome = this.served.has(problem.name)
        ? `the previous certificate for ${problem.name} keeps serving`
        : `${problem.name} does not serve from cert_dir`;
    }
    log.warn(`cert_dir: ${problem.label}: ${problem.message}; ${outcome}`);
    this.hooks.onProblem?.(problem);
  }
}

/** The options given, without the ones left undefined (which would hide the defaults). */
function definedOf(options: CertDirOptions): Partial<typeof DEFAULTS> {
  const out: Partial<typeof DEFAULTS> = {};
  for (const key of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
    const value = options[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}
