/**
 * What cert_dir holds, name by name: `<name>.pem` (the chain, then the key),
 * or `<name>.crt` with `<name>.key`. A wildcard's file is `*.example.com.pem`
 * or `_wildcard.example.com.pem`. Other files are not ours and are left alone.
 *
 * The folder is listed first, then its files are read a batch at a time
 * (batches.ts): ten thousand files load without holding all their text at
 * once, and a name's text is dropped once checked (its digest is kept).
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { inBatches } from "./batches.ts";
import type { Certificate } from "./certificate.ts";
import { nameOfStem, parseCertificateName } from "./name.ts";
import { CertificateError, parseCertificate, parseCertificateFile } from "./parse.ts";

/** The files of one name, read. */
export interface NamedFiles {
  readonly name: string;
  /** How log lines name them: `example.com.pem`, or `example.com.crt + example.com.key`. */
  readonly label: string;
  /** A hash of their text, the key's too: a change is seen by comparing it. */
  readonly digest: bigint;
  /** Checks them, as of `now`; throws a CertificateError. */
  parse(now: number): Certificate;
}

/** A file that stands for no name, or files that cannot be told apart. */
export interface FolderProblem {
  /** The name it would serve, when it is known. */
  readonly name: string | null;
  readonly label: string;
  readonly message: string;
}

/** The files of one name, not read yet. */
export interface NameEntry {
  readonly name: string;
  readonly files: ReadonlyMap<Kind, string>;
}

export interface FolderListing {
  readonly entries: NameEntry[];
  /** Files that stand for no name, or that clash with another. */
  readonly problems: FolderProblem[];
}

const KINDS = [".pem", ".crt", ".key"] as const;
export type Kind = (typeof KINDS)[number];

/** The folder's files grouped by the name they serve; nothing is read yet. */
export async function listCertDir(folder: string): Promise<FolderListing> {
  const byName = new Map<string, Map<Kind, string>>();
  const problems: FolderProblem[] = [];
  for (const file of (await readdir(folder)).sort()) {
    const kind = KINDS.find((one) => file.endsWith(one));
    if (kind === undefined || file.startsWith(".")) continue;
    const parsed = parseCertificateName(nameOfStem(file.slice(0, -kind.length)));
    if (!parsed.ok) {
      problems.push({ name: null, label: file, message: parsed.problems[0]!.message });
      continue;
    }
    const kinds = byName.get(parsed.value) ?? new Map<Kind, string>();
    byName.set(parsed.value, kinds);
    const other = kinds.get(kind);
    if (other !== undefined) {
      const message = `${other} and ${file} both name ${parsed.value}; keep one`;
      problems.push({ name: parsed.value, label: file, message });
      byName.delete(parsed.value);
      continue;
    }
    kinds.set(kind, file);
  }
  const entries = [...byName].map(([name, files]) => ({ name, files }));
  return { entries, problems };
}

/** The entries' files read, a batch of names at a time, in order. */
export function readEntries(
  folder: string,
  entries: readonly NameEntry[],
): AsyncGenerator<(NamedFiles | FolderProblem)[]> {
  return inBatches(entries, (entry) => read(folder, entry));
}

function read(folder: string, entry: NameEntry): Promise<NamedFiles | FolderProblem> {
  const { name, files } = entry;
  return gather(folder, name, files).catch((error: NodeJS.ErrnoException) => {
    // Removed or replaced between the listing and the reading: the next look settles it.
    const label = [...files.values()].join(" + ");
    return { name, label, message: `cannot be read: ${error.code ?? error.message}` };
  });
}

/** The name's files read, or why they make no certificate (a `.crt` without its `.key`). */
async function gather(
  folder: string,
  name: string,
  kinds: ReadonlyMap<Kind, string>,
): Promise<NamedFiles | FolderProblem> {
  const pem = kinds.get(".pem");
  const crt = kinds.get(".crt");
  const key = kinds.get(".key");
  const read = (file: string) => readFile(join(folder, file), "utf8");
  if (pem !== undefined) {
    if (crt !== undefined || key !== undefined) {
      const others = [crt, key].filter(Boolean);
      const verb = others.length === 1 ? "names" : "name";
      const message = `${others.join(" and ")} also ${verb} ${name}; keep the .pem or the .crt and .key`;
      return { name, label: pem, message };
    }
    const text = await read(pem);
    return {
      name,
      label: pem,
      digest: digestOf(text),
      parse: (now) => parseCertificateFile(name, text, "dir", now),
    };
  }
  if (crt === undefined || key === undefined) {
    const [has, lacks] = crt === undefined ? [key!, ".crt"] : [crt, ".key"];
    return { name, label: has, message: `it has no ${lacks} next to it` };
  }
  const [certText, keyText] = await Promise.all([read(crt), read(key)]);
  return {
    name,
    label: `${crt} + ${key}`,
    digest: digestOf(`${certText}\0${keyText}`),
    parse: (now) => parseCertificate(name, certText, keyText, "dir", now),
  };
}

/** 64 bits of the text: what is kept of a file to tell whether it changed, not the text itself. */
function digestOf(text: string): bigint {
  return BigInt(Bun.hash.wyhash(text));
}

/** A parse's failure as a folder problem; anything else is no certificate's fault and is thrown. */
export function problemOf(files: NamedFiles, error: unknown): FolderProblem {
  if (!(error instanceof CertificateError)) throw error;
  return { name: files.name, label: files.label, message: error.message };
}
