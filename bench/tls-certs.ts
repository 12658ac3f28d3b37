/**
 * The certificates of `--tls`, made at the start of the run by the tests' own
 * maker: one CA, an RSA-2048 and an ECDSA P-256 leaf for the bench hostname,
 * and as many ECDSA leaves as asked for the many-certificate listener
 * (tls-many-certs.ts). Each is one PEM file (leaf, CA, key), as both
 * HAProxy's `crt` and Mantrid's `cert_dir` read it.
 */
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type KeyKind, makeCa, type Pem } from "../test/support/certificates.ts";
import { progress } from "./rounds.ts";
import { writeManyCertificates } from "./tls-many-certs.ts";

export interface BenchCertificates {
  /** `<folder>/<host>.pem` of each kind: a `cert_dir` with that one certificate. */
  folders: Record<KeyKind, string>;
  /** The same files, for HAProxy's `crt`. */
  files: Record<KeyKind, string>;
  /** A `cert_dir` with `count` certificates (the bench hostname's among them). */
  manyFolder: string;
  /** A file of the many names, one a line (for the handshake load's SNI). */
  manyNames: string;
  /** A file holding the bench hostname alone. */
  oneName: string;
}

const pemText = (pem: Pem) => `${pem.chain.trimEnd()}\n${pem.key.trimEnd()}\n`;

export async function makeBenchCertificates(
  dir: string,
  host: string,
  count: number,
): Promise<BenchCertificates> {
  const root = join(dir, "tls");
  const ca = await makeCa("Mantrid Bench CA");
  const folders = {} as Record<KeyKind, string>;
  const files = {} as Record<KeyKind, string>;
  for (const kind of ["rsa", "ec"] as const) {
    folders[kind] = join(root, kind);
    await mkdir(folders[kind], { recursive: true });
    files[kind] = join(folders[kind], `${host}.pem`);
    await writeFile(files[kind], pemText(await ca.issue([host], { kind })));
  }

  // The bench hostname's own certificate, and count - 1 more names of one length.
  const manyFolder = join(root, "many");
  await mkdir(manyFolder, { recursive: true });
  await copyFile(files.ec, join(manyFolder, `${host}.pem`));
  const width = String(count).length;
  const others = Array.from(
    { length: count - 1 },
    (_, i) => `n${String(i + 1).padStart(width, "0")}.${host}`,
  );
  const started = performance.now();
  if (others.length > 0) await writeManyCertificates(manyFolder, others);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  progress(`# ${count} certificates made in ${seconds} s`);
  const names = [host, ...others];
  const manyNames = join(root, "many-names");
  await writeFile(manyNames, `${names.join("\n")}\n`);
  const oneName = join(root, "one-name");
  await writeFile(oneName, `${host}\n`);
  return { folders, files, manyFolder, manyNames, oneName };
}
