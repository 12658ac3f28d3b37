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

const NAMES: readonly [string, number][] = [
  ["host", H_HOST],
  ["content-length", H_CONTENT_LENGTH],
  ["transfer-encoding", H_TRANSFER_ENCODING],
  ["connection", H_CONNECTION],
  ["keep-alive", H_KEEP_ALIVE],
  ["proxy-connection", H_PROXY_CONNECTION],
  ["te", H_TE],
  ["trailer", H_TRAILER],
  ["upgrade", H_UPGRADE],
  ["expect", H_EXPECT],
  ["x-forwarded-for", H_X_FORWARDED_FOR],
  ["x-forwarded-proto", H_X_FORWARDED_PROTO],
  ["x-forwarded-protocol", H_X_FORWARDED_PROTOCOL],
];

const MAX_LEN = 20;
// Candidates grouped by name length: [lowercase bytes, id] pairs.
const PATTERNS: Uint8Array[][] = [];
const IDS: number[][] = [];
for (let n = 0; n <= MAX_LEN; n++) {
  PATTERNS.push([]);
  IDS.push([]);
}
for (const [name, id] of NAMES) {
  PATTERNS[name.length]!.push(new TextEncoder().encode(name));
  IDS[name.length]!.push(id);
}

/**
 * Known-header id of the name in buf[s, e), H_OTHER if none. The bytes must be
 * token characters: OR-ing 0x20 then folds only A-Z onto a-z.
 */
export function headerKind(buf: Uint8Array, s: number, e: number): number {
  const n = e - s;
  if (n > MAX_LEN) return H_OTHER;
  const pats = PATTERNS[n]!;
  for (let k = 0; k < pats.length; k++) {
    const pat = pats[k]!;
    let i = 0;
    while (i < n && (buf[s + i]! | 0x20) === pat[i]) i++;
    if (i === n) return IDS[n]![k]!;
  }
  return H_OTHER;
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
