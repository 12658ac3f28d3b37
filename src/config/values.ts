/**
 * Parsers for single setting values, shared by the file and the flags. Each
 * throws an Error whose message the caller prefixes with where the value came from.
 */
import { type ListenAddress, parseAddress } from "./address.ts";
import type { AcmeChallenge, StoreKind, TlsVersion } from "./config.ts";

/** Longer delays overflow timers (2^31 - 1 milliseconds) and would fire at once. */
const MAX_SECONDS = 2_147_483;
const DECIMAL_RE = /^(?:\d+(?:\.\d*)?|\.\d+)$/;

/** One address, or several separated by commas. */
export function parseAddressList(text: string): ListenAddress[] {
  return text.split(",").map((item) => {
    if (item.trim() === "") throw new Error(`empty address in "${text.trim()}"`);
    return parseAddress(item);
  });
}

/** Seconds greater than zero; fractions allowed. */
export function parsePositiveSeconds(text: string): number {
  const seconds = parseSeconds(text);
  if (seconds === 0) throw new Error(`"${text}" must be more than 0 seconds`);
  return seconds;
}

/** Seconds, zero or more; fractions allowed. */
export function parseSeconds(text: string): number {
  if (!DECIMAL_RE.test(text)) throw new Error(`"${text}" is not a number of seconds`);
  const seconds = Number(text);
  if (seconds > MAX_SECONDS) throw new Error(`"${text}" is more than ${MAX_SECONDS} seconds`);
  return seconds;
}

export function parsePositiveInteger(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value === 0) {
    throw new Error(`"${text}" is not a positive whole number`);
  }
  return value;
}

export function parsePath(text: string): string {
  if (text === "") throw new Error("a path is required");
  return text;
}

export function parseToken(text: string): string {
  if (text === "") throw new Error("the token is empty");
  // Quoting the value would print the secret.
  if (/\s/.test(text)) throw new Error("the token must not contain white space");
  return text;
}

export function parseBoolean(text: string): boolean {
  const lower = text.toLowerCase();
  if (lower === "true") return true;
  if (lower === "false") return false;
  throw new Error(`"${text}" is not true or false`);
}

export function parseTlsVersion(text: string): TlsVersion {
  const found = TLS_VERSIONS.find((version) => version.toLowerCase() === text.toLowerCase());
  if (found === undefined) throw new Error(`"${text}" is not one of ${TLS_VERSIONS.join(", ")}`);
  return found;
}

const TLS_VERSIONS: readonly TlsVersion[] = ["TLSv1.2", "TLSv1.3"];

export function parseStoreKind(text: string): StoreKind {
  const lower = text.toLowerCase();
  if (lower === "file" || lower === "etcd") return lower;
  throw new Error(`"${text}" is not file or etcd`);
}

const ACME_CHALLENGES: readonly AcmeChallenge[] = ["auto", "http-01", "tls-alpn-01"];

export function parseAcmeChallenge(text: string): AcmeChallenge {
  const found = ACME_CHALLENGES.find((kind) => kind === text.toLowerCase());
  if (found === undefined) throw new Error(`"${text}" is not one of ${ACME_CHALLENGES.join(", ")}`);
  return found;
}

/** An http(s) URL, as an ACME directory or an etcd endpoint is written. */
export function parseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`"${text}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`"${text}" is not an http:// or https:// URL`);
  }
  return text;
}

/** Comma-separated URLs. */
export function parseUrlList(text: string): string[] {
  return text.split(",").map((item) => {
    if (item.trim() === "") throw new Error(`empty URL in "${text.trim()}"`);
    return parseUrl(item.trim());
  });
}

/** An etcd key prefix: starts and ends with "/" (one is added at the end if missing). */
export function parseKeyPrefix(text: string): string {
  if (!text.startsWith("/")) throw new Error(`"${text}" must start with "/"`);
  return text.endsWith("/") ? text : `${text}/`;
}

/** Any text but an empty one (a cipher list, an e-mail address, a name). */
export function parseText(text: string): string {
  if (text === "") throw new Error("a value is required");
  return text;
}
