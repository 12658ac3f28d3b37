// Validation of the authority shapes a request may carry: the Host value, the
// authority of an absolute-form target and a CONNECT target.

import { COLON, HOST } from "./chars.ts";

const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** Whether buf[s, e) is a port: at most 5 digits, at least `min`. */
function isPort(buf: Uint8Array, s: number, e: number, min: number): boolean {
  if (e - s < min || e - s > 5) return false;
  for (let i = s; i < e; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) return false;
  }
  return true;
}

/**
 * Whether buf[s, e) is uri-host [":" port] (RFC 3986 authority without
 * userinfo). With `needPort` the port must be present, as for CONNECT.
 */
export function isHostPort(buf: Uint8Array, s: number, e: number, needPort: boolean): boolean {
  let p = s;
  if (p < e && buf[p] === OPEN_BRACKET) {
    p++;
    while (p < e && buf[p] !== CLOSE_BRACKET) {
      const c = buf[p]!;
      if (HOST[c] !== 1 || c === OPEN_BRACKET) return false;
      p++;
    }
    if (p === e || p === s + 1) return false;
    p++;
  } else {
    while (p < e) {
      const c = buf[p]!;
      if (c === COLON) break;
      if (HOST[c] !== 1 || c === OPEN_BRACKET || c === CLOSE_BRACKET) return false;
      p++;
    }
    if (p === s && (needPort || p < e)) return false;
  }
  if (p === e) return !needPort;
  if (buf[p] !== COLON) return false;
  return isPort(buf, p + 1, e, needPort ? 1 : 0);
}
