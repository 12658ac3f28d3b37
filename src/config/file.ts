/**
 * The mantrid.conf format: `key = value` lines, blank lines, and comments on
 * lines of their own starting with `#`. A `#` after a value is part of the
 * value (tokens may contain one), as in the original. Keys are case-insensitive;
 * the value is everything after the first `=`, trimmed.
 */
import { GROUP_FILE, PASSWD_FILE, resolveId } from "./accounts.ts";
import { type Config, ConfigError } from "./config.ts";
import {
  parseAcmeChallenge,
  parseAddressList,
  parseBoolean,
  parseKeyPrefix,
  parsePath,
  parsePositiveInteger,
  parsePositiveSeconds,
  parseSeconds,
  parseStoreKind,
  parseText,
  parseTlsVersion,
  parseToken,
  parseUrl,
  parseUrlList,
} from "./values.ts";

type ListField = "bind" | "bindInternal" | "bindManagement" | "bindTls";
type ValueField = Exclude<keyof Config, ListField | "configFile" | "insecureManagement">;

/** What a file sets; anything absent keeps its default or comes from a flag. */
export type FileSettings = Partial<Pick<Config, ListField | ValueField>>;

/** Where user and group names are looked up. */
export interface AccountFiles {
  passwdFile: string;
  groupFile: string;
}

const SYSTEM_ACCOUNTS: AccountFiles = { passwdFile: PASSWD_FILE, groupFile: GROUP_FILE };

interface KeySpec {
  name: string;
  repeatable: boolean;
  apply(settings: FileSettings, value: string, accounts: AccountFiles): void;
}

/** A key that may repeat, each line adding one or more comma-separated addresses. */
function list(name: string, field: ListField): KeySpec {
  return {
    name,
    repeatable: true,
    apply(settings, value) {
      settings[field] = [...(settings[field] ?? []), ...parseAddressList(value)];
    },
  };
}

function single<F extends ValueField>(
  name: string,
  field: F,
  parse: (value: string, accounts: AccountFiles) => Config[F],
): KeySpec {
  return {
    name,
    repeatable: false,
    apply(settings, value, accounts) {
      settings[field] = parse(value, accounts);
    },
  };
}

const KEYS: readonly KeySpec[] = [
  list("bind", "bind"),
  list("bind_internal", "bindInternal"),
  list("bind_management", "bindManagement"),
  list("bind_tls", "bindTls"),
  single("state_file", "stateFile", parsePath),
  single("static_dir", "staticDir", parsePath),
  single("uid", "uid", (value, files) => resolveId(value, files.passwdFile, "user")),
  single("gid", "gid", (value, files) => resolveId(value, files.groupFile, "group")),
  single("connect_timeout", "connectTimeout", parsePositiveSeconds),
  single("backend_timeout", "backendTimeout", parsePositiveSeconds),
  single("idle_timeout", "idleTimeout", parsePositiveSeconds),
  single("head_timeout", "headTimeout", parsePositiveSeconds),
  single("body_timeout", "bodyTimeout", parsePositiveSeconds),
  single("send_timeout", "sendTimeout", parsePositiveSeconds),
  single("linger_timeout", "lingerTimeout", parsePositiveSeconds),
  single("shutdown_grace", "shutdownGrace", parseSeconds),
  single("max_connections", "maxConnections", parsePositiveInteger),
  single("max_spinning", "maxSpinning", parsePositiveInteger),
  single("max_request_line", "maxRequestLine", parsePositiveInteger),
  single("max_head_size", "maxHeadSize", parsePositiveInteger),
  single("max_headers", "maxHeaders", parsePositiveInteger),
  single("workers", "workers", parsePositiveInteger),
  single("management_token", "managementToken", parseToken),
  single("debug", "debug", parseBoolean),
  single("access_log", "accessLog", parsePath),
  single("metrics", "metrics", parseBoolean),
  single("tls_default", "tlsDefault", parseText),
  single("tls_min_version", "tlsMinVersion", parseTlsVersion),
  single("tls_ciphers", "tlsCiphers", parseText),
  single("cert_dir", "certDir", parsePath),
  single("acme_directory", "acmeDirectory", parseUrl),
  single("acme_email", "acmeEmail", parseText),
  single("acme_ca_root", "acmeCaRoot", parsePath),
  single("acme_renew_before", "acmeRenewBefore", parsePositiveSeconds),
  single("acme_challenge", "acmeChallenge", parseAcmeChallenge),
  single("store", "store", parseStoreKind),
  single("etcd_endpoints", "etcdEndpoints", parseUrlList),
  single("etcd_prefix", "etcdPrefix", parseKeyPrefix),
  single("etcd_ca", "etcdCa", parsePath),
  single("etcd_cert", "etcdCert", parsePath),
  single("etcd_key", "etcdKey", parsePath),
  single("etcd_username", "etcdUsername", parseText),
  single("etcd_password", "etcdPassword", parseText),
];

const BY_NAME = new Map(KEYS.map((key) => [key.name, key]));

export const KEY_NAMES: readonly string[] = KEYS.map((key) => key.name);
const REPEATABLE = KEYS.filter((key) => key.repeatable).map((key) => key.name);

/** Parses the text of a config file; `path` is only used in error messages. */
export function parseConfigText(
  text: string,
  path: string,
  accounts: AccountFiles = SYSTEM_ACCOUNTS,
): FileSettings {
  const settings: FileSettings = {};
  const seenOn = new Map<string, number>();
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);

  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const fail = (message: string): never => {
      throw new ConfigError(`${path}:${lineNo}: ${message}`);
    };
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;

    const equals = line.indexOf("=");
    if (equals < 0) {
      // Only the first word is quoted: the line may be a token missing its "=".
      const first = line.split(/\s/, 1)[0];
      fail(`no "=" after "${first}": expected key = value`);
    }
    const name = line.slice(0, equals).trim().toLowerCase();
    const value = line.slice(equals + 1).trim();
    if (name === "") fail(`no key before "="`);

    const key = BY_NAME.get(name) ?? fail(`unknown key "${name}" (known: ${KEY_NAMES.join(", ")})`);
    const previous = seenOn.get(name);
    if (previous !== undefined && !key.repeatable) {
      fail(
        `${name} is already set on line ${previous} (keys that may repeat: ${REPEATABLE.join(", ")})`,
      );
    }
    seenOn.set(name, lineNo);
    if (value === "") fail(`${name}: no value after "="`);

    try {
      key.apply(settings, value, accounts);
    } catch (error) {
      fail(`${name}: ${(error as Error).message}`);
    }
  });
  return settings;
}
