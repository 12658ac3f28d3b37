// The request line: method SP request-target SP HTTP-version CRLF, preceded by
// any number of empty lines.

import { latin1, sameLatin1 } from "./bytes.ts";
import { CR, LF, SLASH, SP, TARGET, TOKEN } from "./chars.ts";
import {
  E_BAD_METHOD,
  E_BAD_REQUEST_LINE,
  E_BAD_TARGET,
  E_BAD_VERSION,
  E_BARE_CR,
  E_BARE_LF,
  E_CONTROL_CHAR,
  E_LINE_TOO_LONG,
  E_UNSUPPORTED_VERSION,
} from "./errors.ts";
import { ranOut } from "./head-fields.ts";
import { isHostPort } from "./host.ts";

/** Ids of the standard methods: indices into METHOD_NAMES; 0 for any other method. */
export const METHOD_OTHER = 0;
export const METHOD_GET = 1;
export const METHOD_HEAD = 2;
const METHOD_OPTIONS = 6;
export const METHOD_CONNECT = 8;

const METHOD_NAMES = [
  "",
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "OPTIONS",
  "PATCH",
  "CONNECT",
  "TRACE",
];
/** Methods a request may be sent twice with (RFC 9110 §9.2.2), as a bit per id. */
const IDEMPOTENT = ["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"].reduce(
  (bits, name) => bits | (1 << METHOD_NAMES.indexOf(name)),
  0,
);

/** Whether a method of this id is idempotent (an unknown method is not). */
export function isIdempotent(id: number): boolean {
  return id !== METHOD_OTHER && (IDEMPOTENT & (1 << id)) !== 0;
}
const METHOD_BYTES = METHOD_NAMES.map((m) => new TextEncoder().encode(m));
const ASTERISK = 0x2a;
const QUESTION = 0x3f;

/** What the request line yields, written into the request head. */
export interface RequestLineTarget {
  method: string;
  methodId: number;
  targetStart: number;
  targetEnd: number;
  minor: number;
}

/** Id of a standard method in buf[s, e) (case-sensitive), METHOD_OTHER if none. */
export function methodId(buf: Uint8Array, s: number, e: number): number {
  const n = e - s;
  if (n < 3 || n > 7) return METHOD_OTHER;
  for (let id = 1; id < METHOD_BYTES.length; id++) {
    const m = METHOD_BYTES[id]!;
    if (m.length !== n || m[0] !== buf[s]) continue;
    let i = 1;
    while (i < n && m[i] === buf[s + i]) i++;
    if (i === n) return id;
  }
  return METHOD_OTHER;
}

function afterMethodError(c: number): number {
  if (c === LF) return E_BARE_LF;
  return c < 0x21 || c >= 0x7f ? E_BAD_REQUEST_LINE : E_BAD_METHOD;
}

function afterTargetError(c: number): number {
  if (c === LF) return E_BARE_LF;
  return c === CR ? E_BAD_REQUEST_LINE : E_BAD_TARGET;
}

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

/** Absolute-form restricted to http(s) with a non-empty authority and no userinfo. */
function isAbsoluteForm(buf: Uint8Array, s: number, e: number): boolean {
  if (e - s < 8 || lower(buf[s]!) !== 0x68) return false;
  if (lower(buf[s + 1]!) !== 0x74 || lower(buf[s + 2]!) !== 0x74 || lower(buf[s + 3]!) !== 0x70) {
    return false;
  }
  let p = s + 4;
  if (lower(buf[p]!) === 0x73) p++;
  if (buf[p] !== 0x3a || buf[p + 1] !== SLASH || buf[p + 2] !== SLASH) return false;
  const as = p + 3;
  let ae = as;
  while (ae < e && buf[ae] !== SLASH && buf[ae] !== QUESTION) ae++;
  return ae > as && isHostPort(buf, as, ae, false);
}

function checkTargetForm(buf: Uint8Array, ts: number, te: number, method: number): number {
  const c0 = buf[ts];
  if (c0 === SLASH) return method === METHOD_CONNECT ? E_BAD_TARGET : 0;
  if (c0 === ASTERISK && te - ts === 1) return method === METHOD_OPTIONS ? 0 : E_BAD_TARGET;
  if (method === METHOD_CONNECT) return isHostPort(buf, ts, te, true) ? 0 : E_BAD_TARGET;
  return isAbsoluteForm(buf, ts, te) ? 0 : E_BAD_TARGET;
}

/** HTTP-version in buf[s, e): the minor version, or an error code. */
function parseVersion(buf: Uint8Array, s: number, e: number): number {
  if (e - s !== 8) return E_BAD_VERSION;
  if (buf[s] !== 0x48 || buf[s + 1] !== 0x54 || buf[s + 2] !== 0x54 || buf[s + 3] !== 0x50) {
    return E_BAD_VERSION;
  }
  const major = buf[s + 5]! - 0x30;
  const minor = buf[s + 7]! - 0x30;
  if (
    buf[s + 4] !== SLASH ||
    buf[s + 6] !== 0x2e ||
    major < 0 ||
    major > 9 ||
    minor < 0 ||
    minor > 9
  ) {
    return E_BAD_VERSION;
  }
  return major === 1 && minor <= 1 ? minor : E_UNSUPPORTED_VERSION;
}

/**
 * Parses the request line at `p`, using no byte at or past `lim` of the `end`
 * bytes available (loops may read beyond, see parseFieldLines). Returns the
 * offset after its CRLF, NEED_MORE or an error.
 */
export function parseRequestLine(
  buf: Uint8Array,
  p: number,
  lim: number,
  end: number,
  out: RequestLineTarget,
  maxLine: number,
): number {
  // RFC 9112 §2.2: ignore empty lines received before the request line.
  while (p < lim && buf[p] === CR) {
    if (p + 1 >= lim) return ranOut(lim, end);
    if (buf[p + 1] !== LF) return E_BARE_CR;
    p += 2;
  }
  const ls = p;
  // The CR must sit at or before ls + maxLine: bytes from there on mean 414.
  const tooLong = ls + maxLine + 1;
  const b = Math.min(lim, tooLong);
  while (TOKEN[buf[p]!] === 1) p++;
  if (p >= b) return b === tooLong ? E_LINE_TOO_LONG : ranOut(lim, end);
  if (buf[p] !== SP || p === ls) return afterMethodError(buf[p]!);
  const me = p++;
  const ts = p;
  while (TARGET[buf[p]!] === 1) p++;
  if (p >= b) return b === tooLong ? E_LINE_TOO_LONG : ranOut(lim, end);
  if (buf[p] !== SP || p === ts) return afterTargetError(buf[p]!);
  const te = p++;
  const vs = p;
  let c = 0;
  while (p < b) {
    c = buf[p]!;
    if (c <= SP || c >= 0x7f) break;
    p++;
  }
  if (p >= b) return b === tooLong ? E_LINE_TOO_LONG : ranOut(lim, end);
  if (c !== CR) {
    if (c === LF) return E_BARE_LF;
    return c === SP ? E_BAD_REQUEST_LINE : E_CONTROL_CHAR;
  }
  if (p + 1 >= lim) return ranOut(lim, end);
  if (buf[p + 1] !== LF) return E_BARE_CR;
  const minor = parseVersion(buf, vs, p);
  if (minor < 0) return minor;
  const id = methodId(buf, ls, me);
  const form = checkTargetForm(buf, ts, te, id);
  if (form !== 0) return form;
  if (id !== METHOD_OTHER) out.method = METHOD_NAMES[id]!;
  else if (!sameLatin1(out.method, buf, ls, me)) out.method = latin1(buf, ls, me);
  out.methodId = id;
  out.targetStart = ts;
  out.targetEnd = te;
  out.minor = minor;
  return p + 2;
}
