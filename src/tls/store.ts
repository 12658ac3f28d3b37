/**
 * Certificates given through the API or got from ACME, kept next to the state
 * file so they survive a restart: `certificates/api/<name>.pem` and
 * `certificates/acme/<name>.pem`, each the chain then the key, and
 * `certificates/extra/<name>` for what ACME keeps besides (its account key).
 * Folders are 0700 and files 0600; each file is replaced atomically and
 * fsynced before a change is acknowledged.
 */
import { chmod, chown, mkdir, open, readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { log } from "../log.ts";
import { writeFileDurably } from "../store/durable-write.ts";
import { inBatches } from "./batches.ts";
import type { Certificate, CertificateSource } from "./certificate.ts";
import { fileStem, nameOfStem } from "./name.ts";
import { certificateFileText, parseCertificateFile } from "./parse.ts";

/** The sources whose certificates live here; the folder's (`dir`) live in cert_dir. */
export type StoredSource = Exclude<CertificateSource, "dir">;
const STORED: readonly StoredSource[] = ["api", "acme"];
const EXTRA = "extra";
const PEM = ".pem";
const EXTRA_NAME_RE = /^[a-z0-9][a-z0-9._-]*$/;

/** Who should own the files once privileges are dropped. */
export interface Owner {
  uid: number;
  gid: number;
}

export class CertificateStore {
  /** Every change waits for the one before: two writes of a file share its temp file. */
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(readonly folder: string) {}

  /** Makes the folders (0700), handing them to `owner` when given; reads nothing yet. */
  static async open(folder: string, owner?: Owner): Promise<CertificateStore> {
    for (const part of ["", ...STORED, EXTRA]) {
      const path = join(folder, part);
      await mkdir(path, { recursive: true, mode: 0o700 });
      // Made by an older run or by hand: its permissions are tightened all the same.
      await chmod(path, 0o700);
      if (owner !== undefined) await chown(path, owner.uid, owner.gid);
    }
    const store = new CertificateStore(folder);
    if (owner !== undefined) await store.chownFiles(owner);
    return store;
  }

  /** Every stored certificate that still parses; each one that does not is logged and skipped. */
  async load(now = Date.now()): Promise<Certificate[]> {
    const loaded: Certificate[] = [];
    for (const source of STORED) {
      const folder = join(this.folder, source);
      for await (const batch of inBatches(await pemFiles(folder), (file) =>
        readStored(folder, file),
      )) {
        for (const read of batch) {
          try {
            if ("error" in read) throw read.error;
            const name = nameOfStem(read.file.slice(0, -PEM.length));
            const certificate = parseCertificateFile(name, read.text, source, now);
            // A key file readable by others (put there by hand) is made the owner's alone.
            if ((read.mode & 0o077) !== 0) await chmod(read.path, 0o600);
            loaded.push(certificate);
          } catch (error) {
            log.warn(`certificate store: ${read.path} skipped: ${(error as Error).message}`);
          }
        }
      }
    }
    return loaded;
  }

  /** Writes `certificate` durably, replacing the one its source had for its name. */
  save(certificate: Certificate): Promise<void> {
    const source = stored(certificate.source);
    return this.serially(() =>
      writeFileDurably(this.pathOf(source, certificate.name), certificateFileText(certificate)),
    );
  }

  /** Removes a source's certificate for `name` durably; false when there was none. */
  remove(source: StoredSource, name: string): Promise<boolean> {
    return this.serially(async () => {
      try {
        await rm(this.pathOf(source, name));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
        throw error;
      }
      await syncFolder(join(this.folder, source));
      return true;
    });
  }

  /** A file of one's own kept with the certificates (an account key), or null when there is none. */
  async readExtra(name: string): Promise<string | null> {
    try {
      return await readFile(this.extraPath(name), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
  }

  /** Replaces such a file durably (0600). */
  writeExtra(name: string, text: string): Promise<void> {
    const path = this.extraPath(name);
    return this.serially(() => writeFileDurably(path, text));
  }

  /** Where a source's certificate for `name` is kept. */
  pathOf(source: StoredSource, name: string): string {
    return join(this.folder, source, `${fileStem(name)}${PEM}`);
  }

  private extraPath(name: string): string {
    if (!EXTRA_NAME_RE.test(name)) {
      throw new Error(`${JSON.stringify(name)} is no name for a file kept with the certificates`);
    }
    return join(this.folder, EXTRA, name);
  }

  private serially<T>(step: () => Promise<T>): Promise<T> {
    const result = this.tail.then(step);
    this.tail = result.catch(() => {});
    return result;
  }

  private async chownFiles(owner: Owner): Promise<void> {
    for (const part of [...STORED, EXTRA]) {
      const folder = join(this.folder, part);
      for (const file of await readdir(folder)) {
        await chown(join(folder, file), owner.uid, owner.gid);
      }
    }
  }
}

function stored(source: CertificateSource): StoredSource {
  if (source === "dir") throw new Error("certificates of cert_dir are not stored; their files are");
  return source;
}

/** `.pem` files, not the temp files (`.<name>.pem.<pid>.tmp`) a crash may leave. */
async function pemFiles(folder: string): Promise<string[]> {
  const files = await readdir(folder);
  return files.filter((file) => file.endsWith(PEM) && !file.startsWith(".")).sort();
}

/** A stored file's text and mode, or why it could not be read. */
type StoredRead =
  | { path: string; file: string; text: string; mode: number }
  | { path: string; error: unknown };

async function readStored(folder: string, file: string): Promise<StoredRead> {
  const path = join(folder, file);
  try {
    const [text, info] = await Promise.all([readFile(path, "utf8"), stat(path)]);
    return { path, file, text, mode: info.mode };
  } catch (error) {
    return { path, error };
  }
}

/** Makes a removal from `folder` survive a power cut. */
async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
