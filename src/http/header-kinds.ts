// Recognises the header names the proxy acts on, case-insensitively, on bytes.

export const H_OTHER = 0;
export const H_HOST = 1;
export const H_CONTENT_LENGTH = 2;
export const H_TRANSFER_ENCODING = 3;
export const H_CONNECTION = 4;
export const H_KEEP_ALIVE = 5;
export const H_PROXY_CONNECTION = 6;
export const H_TE = 7;
export const H_TRAILER = 8;
export const H_UPGRADE = 9;
export const H_EXPECT = 10;
export const H_X_FORWARDED_FOR = 11;
export const H_X_FORWARDED_PROTO = 12;
export const H_X_FORWARDED_PROTOCOL = 13;

const TE = lowerBytes("te");
const HOST = lowerBytes("host");
const EXPECT = lowerBytes("expect");
const TRAILER = lowerBytes("trailer");
const UPGRADE = lowerBytes("upgrade");
const CONNECTION = lowerBytes("connection");
const KEEP_ALIVE = lowerBytes("keep-alive");
const CONTENT_LENGTH = lowerBytes("content-length");
const X_FORWARDED_FOR = lowerBytes("x-forwarded-for");
const PROXY_CONNECTION = lowerBytes("proxy-connection");
const TRANSFER_ENCODING = lowerBytes("transfer-encoding");
const X_FORWARDED_PROTO = lowerBytes("x-forwarded-proto");
const X_FORWARDED_PROTOCOL = lowerBytes("x-forwarded-protocol");

/** Whether the pat.length bytes at `s` spell `pat`, ignoring case. */
function at(buf: Uint8Array, s: number, pat: Uint8Array): boolean {
  for (let i = 0; i < pat.length; i++) if ((buf[s + i]! | 0x20) !== pat[i]) return false;
  return true;
}

/**
 * Known-header id of the name in buf[s, e), H_OTHER if none. The bytes must be
 * token characters: OR-ing 0x20 then folds only A-Z onto a-z. Dispatch on
 * length, then on the first letter, so most names cost two compares.
 */
export function headerKind(buf: Uint8Array, s: number, e: number): number {
  const c = buf[s]! | 0x20;
  switch (e - s) {
    case 2:
      return c === 0x74 && at(buf, s, TE) ? H_TE : H_OTHER;
    case 4:
      return c === 0x68 && at(buf, s, HOST) ? H_HOST : H_OTHER;
    case 6:
      return c === 0x65 && at(buf, s, EXPECT) ? H_EXPECT : H_OTHER;
    case 7:
      if (c === 0x74) return at(buf, s, TRAILER) ? H_TRAILER : H_OTHER;
      return c === 0x75 && at(buf, s, UPGRADE) ? H_UPGRADE : H_OTHER;
    case 10:
      if (c === 0x63) return at(buf, s, CONNECTION) ? H_CONNECTION : H_OTHER;
      return c === 0x6b && at(buf, s, KEEP_ALIVE) ? H_KEEP_ALIVE : H_OTHER;
    case 14:
      return c === 0x63 && at(buf, s, CONTENT_LENGTH) ? H_CONTENT_LENGTH : H_OTHER;
    case 15:
      return c === 0x78 && at(buf, s, X_FORWARDED_FOR) ? H_X_FORWARDED_FOR : H_OTHER;
    case 16:
      return c === 0x70 && at(buf, s, PROXY_CONNECTION) ? H_PROXY_CONNECTION : H_OTHER;
    case 17:
      if (c === 0x74) return at(buf, s, TRANSFER_ENCODING) ? H_TRANSFER_ENCODING : H_OTHER;
      return c === 0x78 && at(buf, s, X_FORWARDED_PROTO) ? H_X_FORWARDED_PROTO : H_OTHER;
    case 20:
      return c === 0x78 && at(buf, s, X_FORWARDED_PROTOCOL) ? H_X_FORWARDED_PROTOCOL : H_OTHER;
    default:
      return H_OTHER;
  }
}

/** Lowercase ASCII word as bytes, for equalsLower. */
export function lowerBytes(word: string): Uint8Array {
  return new TextEncoder().encode(word.toLowerCase());
}

/**
 * Case-insensitive comparison of buf[s, e) with a lowercase word of letters,
 * digits and "-". The bytes must hold no control characters (a validated
 * head), so OR-ing 0x20 folds only A-Z.
 */
export function equalsLower(buf: Uint8Array, s: number, e: number, word: Uint8Array): boolean {
  const n = word.length;
  if (e - s !== n) return false;
  for (let i = 0; i < n; i++) if ((buf[s + i]! | 0x20) !== word[i]) return false;
  return true;
}
