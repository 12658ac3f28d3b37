/**
 * What cert_dir holds, name by name: `<name>.pem` (the chain, then the key),
 * or `<name>.crt` with `<name>.key`. A wildcard's file is `*.example.com.pem`
 * or `_wildcard.example.com.pem`. Other files are not ours and are left alone.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Certificate } from "./certificate.ts";
import { nameOfStem, parseCertificateName } from "./name.ts";
import { CertificateError, parseCertificate, parseCertificateFile } from "./parse.ts";

/** The files of one name, read. */
export interface NamedFiles {
  readonly name: string;
  /** How log lines name them: `example.com.pem`, or `example.com.crt + example.com.key`. */
  readonly label: string;
  /** Their text, the key's too: a change is seen by comparing it. */
  readonly text: string;
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

export interface FolderContents {
  readonly named: NamedFiles[];
  readonly problems: FolderProblem[];
}

const KINDS = [".pem", ".crt", ".key"] as const;
type Kind = (typeof KINDS)[number];

export async function readCertDir(folder: string): Promise<FolderContents> {
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
  const named: NamedFiles[] = [];
  for (const [name, kinds] of byName) {
    const found = await gather(folder, name, kinds).catch((error: NodeJS.ErrnoException) => {
      // Removed or replaced between the listing and the reading: the next look settles it.
      const label = [...kinds.values()].join(" + ");
      return { name, label, message: `cannot be read: ${error.code ?? error.message}` };
    });
    if ("message" in found) problems.push(found);
    else named.push(found);
  }
  return { named, problems };
}

/** The name's files read, or why they make no certificate (a `.crt` without its `.key`). */
async function gather(
  folder: string,
  name: string,
  kinds: Map<Kind, string>,
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
    return { name, label: pem, text, parse: (now) => parseCertificateFile(name, text, "dir", now) };
  }
  if (crt === undefined || key === undefined) {
    const [has, lacks] = crt === undefined ? [key!, ".crt"] : [crt, ".key"];
    return { name, label: has, message: `it has no ${lacks} next to it` };
  }
  const [certText, keyText] = await Promise.all([read(crt), read(key)]);
  return {
    name,
    label: `${crt} + ${key}`,
    text: `${certText}\0${keyText}`,
    parse: (now) => parseCertificate(name, certText, keyText, "dir", now),
  };
}

/** A parse's failure as a folder problem; anything else is no certificate's fault and is thrown. */
export function problemOf(files: NamedFiles, error: unknown): FolderProblem {
  if (!(error instanceof CertificateError)) throw error;
  return { name: files.name, label: files.label, message: error.message };
}
