/**
 * Builds the Config from defaults, the config file and command-line flags.
 * Precedence, key by key: flag, then file, then default. A list flag such as
 * --bind replaces the file's whole list.
 *
 * The management token may also come from the environment variable
 * MANTRID_MANAGEMENT_TOKEN, used only when neither the file nor a flag sets
 * one; it keeps the secret out of the process list and out of the file.
 */
import { readFile } from "node:fs/promises";
import { GROUP_FILE, PASSWD_FILE } from "./accounts.ts";
import type { ListenAddress } from "./address.ts";
import { type Config, ConfigError, DEFAULTS } from "./config.ts";
import { type AccountFiles, parseConfigText } from "./file.ts";
import { parseAddressList, parsePath, parsePositiveInteger, parseToken } from "./values.ts";

export { describeConfig } from "./describe.ts";

export const DEFAULT_CONFIG_PATH = "/etc/mantrid/mantrid.conf";
export const TOKEN_VARIABLE = "MANTRID_MANAGEMENT_TOKEN";

/** What the command line passes, strings as typed. Undefined means the flag was not given. */
export interface ConfigFlags {
  config?: string;
  /** Each string may itself be a comma-separated list. */
  bind?: string | string[];
  bindInternal?: string | string[];
  management?: string | string[];
  bindTls?: string | string[];
  stateFile?: string;
  staticDir?: string;
  workers?: string;
  managementToken?: string;
  insecureManagement?: boolean;
  debug?: boolean;
  accessLog?: string;
}

/** Paths that tests point elsewhere. */
export interface LoadOptions extends Partial<AccountFiles> {
  /** Read when no --config is given, if it exists. */
  defaultConfigPath?: string;
}

export async function loadConfig(
  flags: ConfigFlags,
  env: Record<string, string | undefined> = process.env,
  options: LoadOptions = {},
): Promise<Config> {
  const accounts: AccountFiles = {
    passwdFile: options.passwdFile ?? PASSWD_FILE,
    groupFile: options.groupFile ?? GROUP_FILE,
  };
  const file = await readConfigFile(flags.config, options.defaultConfigPath ?? DEFAULT_CONFIG_PATH);
  const fromFile = file ? parseConfigText(file.text, file.path, accounts) : {};
  const merged: Config = {
    ...DEFAULTS,
    ...fromFile,
    ...parseFlags(flags),
    configFile: file?.path ?? null,
  };
  merged.managementToken ??= tokenFromEnv(env);
  // Fresh copies, so nothing shares (frozen) lists with DEFAULTS or another config.
  merged.bind = copy(merged.bind);
  merged.bindInternal = copy(merged.bindInternal);
  merged.bindManagement = copy(merged.bindManagement);
  merged.bindTls = copy(merged.bindTls);
  merged.etcdEndpoints = [...merged.etcdEndpoints];
  return merged;
}

async function readConfigFile(
  explicit: string | undefined,
  defaultPath: string,
): Promise<{ path: string; text: string } | null> {
  const path = explicit === undefined ? defaultPath : flag("config", explicit, parsePath);
  try {
    return { path, text: await readFile(path, "utf8") };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const missing = code === "ENOENT" || code === "ENOTDIR";
    if (missing && explicit === undefined) return null;
    if (missing) throw new ConfigError(`--config: ${path} does not exist`);
    throw new ConfigError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

/** Only the flags that were given, so absent ones do not mask the file. */
function parseFlags(flags: ConfigFlags): Partial<Config> {
  const out: Partial<Config> = {};
  const bind = addresses("bind", flags.bind);
  if (bind) out.bind = bind;
  const bindInternal = addresses("bind-internal", flags.bindInternal);
  if (bindInternal) out.bindInternal = bindInternal;
  const management = addresses("management", flags.management);
  if (management) out.bindManagement = management;
  const bindTls = addresses("bind-tls", flags.bindTls);
  if (bindTls) out.bindTls = bindTls;
  if (flags.stateFile !== undefined) out.stateFile = flag("state-file", flags.stateFile, parsePath);
  if (flags.staticDir !== undefined) out.staticDir = flag("static-dir", flags.staticDir, parsePath);
  if (flags.workers !== undefined) {
    out.workers = flag("workers", flags.workers.trim(), parsePositiveInteger);
  }
  if (flags.managementToken !== undefined) {
    out.managementToken = flag("management-token", flags.managementToken, parseToken);
  }
  if (flags.insecureManagement !== undefined) out.insecureManagement = flags.insecureManagement;
  if (flags.debug !== undefined) out.debug = flags.debug;
  if (flags.accessLog !== undefined) out.accessLog = flag("access-log", flags.accessLog, parsePath);
  return out;
}

function addresses(name: string, value: string | string[] | undefined): ListenAddress[] | null {
  const items = typeof value === "string" ? [value] : (value ?? []);
  if (items.length === 0) return null;
  return items.flatMap((item) => flag(name, item, parseAddressList));
}

function flag<T>(name: string, value: string, parse: (value: string) => T): T {
  try {
    return parse(value);
  } catch (error) {
    throw new ConfigError(`--${name}: ${(error as Error).message}`);
  }
}

/** An empty variable counts as unset, as shells make clearing one awkward. */
function tokenFromEnv(env: Record<string, string | undefined>): string | null {
  const value = env[TOKEN_VARIABLE];
  if (value === undefined || value === "") return null;
  try {
    return parseToken(value);
  } catch (error) {
    throw new ConfigError(`${TOKEN_VARIABLE}: ${(error as Error).message}`);
  }
}

function copy(list: ListenAddress[]): ListenAddress[] {
  return list.map((address) => ({ ...address }));
}
