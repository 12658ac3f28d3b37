/**
 * What the `hash` policy hashes, as a rule's `hash_key` says: `client_ip` (the
 * default) the client's address, `header:<name>` the first value of that
 * header (name in any case), `cookie:<name>` the value of that cookie in the
 * request's Cookie header(s) (RFC 6265 §4.2.1: `a=1; b=2`, names exact). A
 * request without the header or the cookie, or with an empty value, falls back
 * to its client address.
 *
 * The head is read where it was parsed, byte offsets into `headBytes`: the one
 * string made is the value found.
 */
import { latin1 } from "../http/bytes.ts";
import type { Exchange } from "../proxy/exchange.ts";

export type HashKeyReader = (exchange: Exchange) => string;

const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const SP = 0x20;
const HTAB = 0x09;
const COOKIE = bytesOf("cookie");

function bytesOf(text: string): Uint8Array {
  return Uint8Array.from(text, (char) => char.charCodeAt(0));
}

const clientAddress: HashKeyReader = (exchange) => exchange.clientAddress;

/** The reader for a `hash_key` value (validated with the rule). */
export function hashKeyReader(spec: string): HashKeyReader {
  if (spec === "client_ip") return clientAddress;
  if (spec.startsWith("header:")) {
    const name = bytesOf(spec.slice("header:".length).toLowerCase());
    return (exchange) => headerValue(exchange, name) ?? exchange.clientAddress;
  }
  if (spec.startsWith("cookie:")) {
    const name = bytesOf(spec.slice("cookie:".length));
    return (exchange) => cookieValue(exchange, name) ?? exchange.clientAddress;
  }
  throw new Error(`hash_key "${spec}" is not client_ip, header:<name> or cookie:<name>`);
}

/** Whether buf[s, e) is the field name `lower` (lower-case bytes), ignoring case. */
function isName(buf: Uint8Array, s: number, e: number, lower: Uint8Array): boolean {
  if (e - s !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    const c = buf[s + i]!;
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== lower[i]) return false;
  }
  return true;
}

/** The value of the first header `name`, or null when there is none or it is empty. */
function headerValue(exchange: Exchange, name: Uint8Array): string | null {
  const { head, headBytes: buf } = exchange;
  const fields = head.fields;
  for (let i = 0; i < head.fieldCount; i++) {
    const f = i << 2;
    if (!isName(buf, fields[f]!, fields[f + 1]!, name)) continue;
    const start = fields[f + 2]!;
    const end = fields[f + 3]!;
    return end > start ? latin1(buf, start, end) : null;
  }
  return null;
}

/** The first non-empty value of the cookie `name` in any Cookie header, or null. */
function cookieValue(exchange: Exchange, name: Uint8Array): string | null {
  const { head, headBytes: buf } = exchange;
  const fields = head.fields;
  for (let i = 0; i < head.fieldCount; i++) {
    const f = i << 2;
    if (!isName(buf, fields[f]!, fields[f + 1]!, COOKIE)) continue;
    const end = fields[f + 3]!;
    let p = fields[f + 2]!;
    while (p < end) {
      // One `name=value` pair, up to the next ';'.
      while (p < end && (buf[p] === SP || buf[p] === HTAB)) p++;
      const pairStart = p;
      while (p < end && buf[p] !== SEMICOLON) p++;
      const value = pairValue(buf, pairStart, p, name);
      if (value !== null) return value;
      p++;
    }
  }
  return null;
}

/** The value of the pair buf[s, e) when it is `name=value` with a value, else null. */
function pairValue(buf: Uint8Array, s: number, e: number, name: Uint8Array): string | null {
  const n = name.length;
  if (e - s <= n) return null;
  for (let i = 0; i < n; i++) if (buf[s + i] !== name[i]) return null;
  let p = s + n;
  while (p < e && (buf[p] === SP || buf[p] === HTAB)) p++;
  if (p >= e || buf[p] !== EQUALS) return null;
  p++;
  while (p < e && (buf[p] === SP || buf[p] === HTAB)) p++;
  while (e > p && (buf[e - 1] === SP || buf[e - 1] === HTAB)) e--;
  return e > p ? latin1(buf, p, e) : null;
}
