/**
 * Where certificates come from, started together for `mantrid serve`: the
 * store next to the state file (the API's and ACME's), then cert_dir, watched.
 */
import { stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type Config, ConfigError } from "../config/config.ts";
import { log } from "../log.ts";
import { describeFileError, isSystemError } from "../system/file-error.ts";
import type { CertificateCatalog } from "./catalog.ts";
import { CertDir, type CertDirOptions } from "./cert-dir.ts";
import { KeptCertificates } from "./kept.ts";
import { CertificateStore, type Owner } from "./store.ts";

export interface CertificateSources {
  readonly catalog: CertificateCatalog;
  /** The API's and ACME's: stored durably, then served. */
  readonly kept: KeptCertificates;
  /** cert_dir's watcher, when one is set. */
  readonly dir: CertDir | null;
  /** Reads cert_dir again now (SIGHUP). */
  rescan(): Promise<void>;
  stop(): Promise<void>;
}

/** The store's folder: `certificates/` beside the state file. */
export function certificateFolder(stateFile: string): string {
  return join(dirname(stateFile), "certificates");
}

export async function startCertificates(
  config: Pick<Config, "stateFile" | "certDir" | "uid" | "gid">,
  catalog: CertificateCatalog,
  dirOptions?: CertDirOptions,
): Promise<CertificateSources> {
  const folder = certificateFolder(config.stateFile);
  const store = await CertificateStore.open(folder, ownerOf(config)).catch((error) => {
    if (!isSystemError(error)) throw error;
    const hint = "the certificates live beside the state file: check its folder";
    throw new ConfigError(describeFileError(error, `open the certificate folder ${folder}`, hint));
  });
  const kept = new KeptCertificates(store, catalog);
  const count = await kept.load();
  if (count > 0) log.info(`loaded ${count} certificates from ${folder}`);

  let dir: CertDir | null = null;
  if (config.certDir !== null) {
    await checkFolder(config.certDir);
    dir = new CertDir(config.certDir, catalog, dirOptions);
    await dir.start();
  }
  return {
    catalog,
    kept,
    dir,
    rescan: async () => dir?.rescan(),
    stop: async () => dir?.stop(),
  };
}

/** Files written as root before privileges are dropped must stay the server's to rewrite. */
function ownerOf(config: Pick<Config, "uid" | "gid">): Owner | undefined {
  if (config.uid === null && config.gid === null) return undefined;
  return { uid: config.uid ?? process.getuid!(), gid: config.gid ?? process.getgid!() };
}

async function checkFolder(path: string): Promise<void> {
  const hint = "set cert_dir to a folder of <name>.pem or <name>.crt and <name>.key files";
  try {
    if ((await stat(path)).isDirectory()) return;
  } catch (error) {
    if (!isSystemError(error)) throw error;
    throw new ConfigError(describeFileError(error, `read cert_dir ${path}`, hint));
  }
  throw new ConfigError(`cannot read cert_dir ${path}: it is a file, not a folder; ${hint}`);
}
