/** The settings a running Mantrid needs, and their defaults. */
import { DEFAULT_LIMITS } from "../http/limits.ts";
import { type ListenAddress, parseAddress } from "./address.ts";

export interface Config {
  /** External listeners: the client address is taken from the connection. */
  bind: ListenAddress[];
  /** Trusted listeners behind a TLS terminator, whose forwarding headers are believed. */
  bindInternal: ListenAddress[];
  bindManagement: ListenAddress[];
  /** TLS listeners: requests on them are https; the certificate is chosen by SNI. */
  bindTls: ListenAddress[];
  /** The certificate for handshakes without SNI or with an unknown name; null refuses them. */
  tlsDefault: string | null;
  /** The oldest TLS version accepted. */
  tlsMinVersion: TlsVersion;
  /** OpenSSL cipher list for TLS 1.2 and below; null keeps the modern default. */
  tlsCiphers: string | null;
  /** A folder of `<name>.pem` (chain + key) or `<name>.crt` + `<name>.key` files; null for none. */
  certDir: string | null;
  /** The ACME server's directory URL. */
  acmeDirectory: string;
  /** The contact given to the ACME server; null for none. */
  acmeEmail: string | null;
  /** A PEM file of CA certificates to trust for the ACME server itself; null: the system's. */
  acmeCaRoot: string | null;
  /** Seconds before expiry to renew; null: 30 days, or a third of a shorter lifetime. */
  acmeRenewBefore: number | null;
  /** How the CA checks a name is ours: `auto` is http-01 with a `bind` listener, else tls-alpn-01. */
  acmeChallenge: AcmeChallenge;
  /** Where rules live: this host's state file, or etcd shared by many instances. */
  store: StoreKind;
  /** etcd client URLs. */
  etcdEndpoints: string[];
  /** The key prefix of every key Mantrid keeps in etcd; ends with "/". */
  etcdPrefix: string;
  etcdCa: string | null;
  etcdCert: string | null;
  etcdKey: string | null;
  etcdUsername: string | null;
  etcdPassword: string | null;
  /** Count per-rule and per-backend metrics for GET /metrics (a few increments per request). */
  metrics: boolean;
  stateFile: string;
  staticDir: string;
  /** User id to switch to after binding; null to stay as started. */
  uid: number | null;
  /** Group id to switch to after binding; null to stay as started. */
  gid: number | null;
  /** Seconds to establish a backend connection. */
  connectTimeout: number;
  /** Seconds to wait for a backend's response head. */
  backendTimeout: number;
  /** Seconds a keep-alive connection (client or pooled backend) may sit idle. */
  idleTimeout: number;
  /** Seconds to receive a whole request head. */
  headTimeout: number;
  /** Seconds a request body may go without a byte from the client. */
  bodyTimeout: number;
  /** Seconds a response may go without the client accepting a byte. */
  sendTimeout: number;
  /** Seconds to go on reading (and dropping) what a client sends after an answer that did not read it all. */
  lingerTimeout: number;
  maxConnections: number;
  maxSpinning: number;
  /** Longest request line accepted (414 beyond). */
  maxRequestLine: number;
  /** Largest request head accepted, in bytes (431 beyond). */
  maxHeadSize: number;
  /** Most header lines in one request head (431 beyond). */
  maxHeaders: number;
  /** Seconds in-flight requests get to finish on shutdown. */
  shutdownGrace: number;
  managementToken: string | null;
  /** Allow the management API on non-loopback addresses without a token. */
  insecureManagement: boolean;
  workers: number;
  debug: boolean;
  /** One JSON line per request to this file, or to stderr with `-`; null for none. */
  accessLog: string | null;
  /** Which file was read, if any. */
  configFile: string | null;
}

export type TlsVersion = "TLSv1.2" | "TLSv1.3";
export type StoreKind = "file" | "etcd";
export type AcmeChallenge = "auto" | "http-01" | "tls-alpn-01";

/** Let's Encrypt's production directory. */
export const LETS_ENCRYPT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory";

/** A message meant for the operator as is; it names the file and line or the flag at fault. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Frozen so that code mutating a default fails loudly instead of changing later configs. */
function frozen(texts: string[]): ListenAddress[] {
  return Object.freeze(texts.map((text) => Object.freeze(parseAddress(text)))) as ListenAddress[];
}

/** The original Mantrid's defaults. */
export const DEFAULTS: Readonly<Config> = Object.freeze({
  bind: frozen(["*:80"]),
  bindInternal: frozen([]),
  bindManagement: frozen(["127.0.0.1:8042", "[::1]:8042"]),
  bindTls: frozen([]),
  tlsDefault: null,
  tlsMinVersion: "TLSv1.2",
  tlsCiphers: null,
  certDir: null,
  acmeDirectory: LETS_ENCRYPT_DIRECTORY,
  acmeEmail: null,
  acmeCaRoot: null,
  acmeRenewBefore: null,
  acmeChallenge: "auto",
  store: "file",
  etcdEndpoints: Object.freeze(["http://127.0.0.1:2379"]) as string[],
  etcdPrefix: "/mantrid/",
  etcdCa: null,
  etcdCert: null,
  etcdKey: null,
  etcdUsername: null,
  etcdPassword: null,
  metrics: true,
  stateFile: "/var/lib/mantrid/state.json",
  staticDir: "/etc/mantrid/static/",
  uid: null,
  gid: null,
  connectTimeout: 5,
  backendTimeout: 60,
  idleTimeout: 60,
  headTimeout: 10,
  bodyTimeout: 60,
  sendTimeout: 60,
  lingerTimeout: 2,
  maxConnections: 10000,
  maxSpinning: 10000,
  maxRequestLine: DEFAULT_LIMITS.maxRequestLine,
  maxHeadSize: DEFAULT_LIMITS.maxHeadSize,
  maxHeaders: DEFAULT_LIMITS.maxHeaders,
  shutdownGrace: 10,
  managementToken: null,
  insecureManagement: false,
  workers: 1,
  debug: false,
  accessLog: null,
  configFile: null,
});
