// Byte-range to string conversions for the few values that become strings.

interface Latin1Slicer {
  latin1Slice(start: number, end: number): string;
}

function hasLatin1Slice(buf: Uint8Array): buf is Uint8Array & Latin1Slicer {
  return typeof (buf as Partial<Latin1Slicer>).latin1Slice === "function";
}

/** buf[s, e) decoded as latin1 (one char per byte). */
export function latin1(buf: Uint8Array, s: number, e: number): string {
  // The native slice wins once the per-call overhead is amortised.
  if (e - s > 12 && hasLatin1Slice(buf)) return buf.latin1Slice(s, e);
  let r = "";
  for (let i = s; i < e; i++) r += String.fromCharCode(buf[i]!);
  return r;
}

/** buf[s, e) decoded as latin1 with A-Z folded to a-z. */
export function latin1Lower(buf: Uint8Array, s: number, e: number): string {
  let r = "";
  for (let i = s; i < e; i++) {
    const c = buf[i]!;
    r += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c | 0x20 : c);
  }
  return r;
}

/** Whether `str` is exactly the latin1 decoding of buf[s, e): lets a string be reused. */
export function sameLatin1(str: string, buf: Uint8Array, s: number, e: number): boolean {
  const n = e - s;
  if (str.length !== n) return false;
  for (let i = 0; i < n; i++) if (str.charCodeAt(i) !== buf[s + i]) return false;
  return true;
}
