/**
 * cert_dir: its certificates serve with source "dir", read at start, again a
 * moment after each change (fs.watch, debounced), and on `rescan()` (SIGHUP).
 * A file that does not parse may be half-written: it is looked at again until
 * a deadline, then reported in one line; the name's previous certificate, if
 * any, keeps serving. A name whose files are all gone stops serving.
 */
import { type FSWatcher, watch } from "node:fs";
import { log } from "../log.ts";
import type { CertificateCatalog } from "./catalog.ts";
import { type FolderProblem, problemOf, readCertDir } from "./cert-dir-files.ts";

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
  /** The text each name's serving certificate was read from. */
  private readonly served = new Map<string, string>();
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
    let contents: Awaited<ReturnType<typeof readCertDir>>;
    try {
      contents = await readCertDir(this.folder);
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
    const problems: { problem: FolderProblem; text: string }[] = [];
    for (const files of contents.named) {
      present.add(files.name);
      if (this.served.get(files.name) === files.text) continue;
      try {
        const certificate = files.parse(now);
        this.served.set(files.name, files.text);
        this.catalog.put(certificate);
        const expiry = new Date(certificate.notAfter).toISOString();
        log.info(`cert_dir: ${files.label} serves ${files.name} (expires ${expiry})`);
      } catch (error) {
        problems.push({ problem: problemOf(files, error), text: files.text });
      }
    }
    for (const problem of contents.problems) {
      if (problem.name !== null) present.add(problem.name);
      problems.push({ problem, text: "" });
    }
    for (const name of [...this.served.keys()]) {
      if (present.has(name)) continue;
      this.served.delete(name);
      this.catalog.remove(name, "dir");
      log.info(`cert_dir: the files of ${name} are gone; it no longer serves from cert_dir`);
    }
    this.settle(problems, reportAll, now);
  }

  /** Reports the problems that are old enough (all of them for `reportAll`), and looks again for the rest. */
  private settle(
    found: { problem: FolderProblem; text: string }[],
    reportAll: boolean,
    now: number,
  ) {
    const before = new Map(this.pending);
    this.pending.clear();
    let nextLook = Number.POSITIVE_INFINITY;
    for (const { problem, text } of found) {
      // A file that changed is a new problem, even with the same message.
      const key = `${problem.message}\0${Bun.hash(text)}`;
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
