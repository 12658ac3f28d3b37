// Parsers for the values that decide message framing and connection reuse.
// They read byte ranges recorded by the field-line loop.

import { latin1Lower } from "./bytes.ts";
import { COMMA, HTAB, SP, TOKEN } from "./chars.ts";
import {
  E_BAD_CONNECTION,
  E_BAD_CONTENT_LENGTH,
  E_BAD_TRANSFER_ENCODING,
  E_CONTENT_LENGTH_CONFLICT,
} from "./errors.ts";
import {
  CONN_CLOSE,
  CONN_KEEP_ALIVE,
  CONN_UPGRADE,
  type MessageHead,
  TE_CHUNKED,
  TE_CHUNKED_NOT_LAST,
  TE_OTHER,
} from "./head-fields.ts";
import {
  equalsLower,
  H_CONNECTION,
  H_CONTENT_LENGTH,
  H_TRANSFER_ENCODING,
  H_UPGRADE,
  lowerBytes,
} from "./header-kinds.ts";

const MAX_LENGTH = Number.MAX_SAFE_INTEGER;
const GZIP = lowerBytes("gzip");
const DEFLATE = lowerBytes("deflate");
const COMPRESS = lowerBytes("compress");
const X_GZIP = lowerBytes("x-gzip");
const X_COMPRESS = lowerBytes("x-compress");
const CHUNKED = lowerBytes("chunked");
const CLOSE = lowerBytes("close");
const KEEP_ALIVE = lowerBytes("keep-alive");
const UPGRADE = lowerBytes("upgrade");

/**
 * Content-Length value: 1*DIGIT, or a list of identical such values ("5, 5").
 * Returns the length, -1 when malformed or above 2^53 - 1, -2 when the list
 * disagrees with itself.
 */
export function parseContentLength(buf: Uint8Array, s: number, e: number): number {
  let result = -1;
  let p = s;
  for (;;) {
    const ds = p;
    let v = 0;
    while (p < e) {
      const d = buf[p]! - 0x30;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
      if (v > MAX_LENGTH) return -1;
      p++;
    }
    if (p === ds) return -1;
    if (result !== -1 && v !== result) return -2;
    result = v;
    if (p === e) return result;
    while (p < e && (buf[p] === SP || buf[p] === HTAB)) p++;
    if (p === e || buf[p] !== COMMA) return -1;
    p++;
    while (p < e && (buf[p] === SP || buf[p] === HTAB)) p++;
  }
}

function isKnownCoding(buf: Uint8Array, s: number, e: number): boolean {
  return (
    equalsLower(buf, s, e, GZIP) ||
    equalsLower(buf, s, e, DEFLATE) ||
    equalsLower(buf, s, e, COMPRESS) ||
    equalsLower(buf, s, e, X_GZIP) ||
    equalsLower(buf, s, e, X_COMPRESS)
  );
}

/**
 * Folds one Transfer-Encoding line into head.transferEncoding. `s, e` span the
 * value with its leading and trailing OWS already stripped (RFC 9110 §5.5),
 * as for every field. Stricter than the grammar on purpose, since peers
 * disagreeing on this header is how requests get smuggled: OWS (SP or HTAB)
 * only around commas, no empty elements, no parameters, chunked at most once.
 */
export function applyTransferEncoding(
  buf: Uint8Array,
  s: number,
  e: number,
  head: MessageHead,
): number {
  let p = s;
  let state = head.transferEncoding;
  for (;;) {
    const ts = p;
    while (p < e && TOKEN[buf[p]!] === 1) p++;
    if (p === ts) return E_BAD_TRANSFER_ENCODING;
    if (equalsLower(buf, ts, p, CHUNKED)) {
      if (state === TE_CHUNKED || state === TE_CHUNKED_NOT_LAST) return E_BAD_TRANSFER_ENCODING;
      state = TE_CHUNKED;
    } else {
      if (!isKnownCoding(buf, ts, p)) head.unknownCoding = true;
      state =
        state === TE_CHUNKED || state === TE_CHUNKED_NOT_LAST ? TE_CHUNKED_NOT_LAST : TE_OTHER;
    }
    if (p === e) break;
    while (p < e && isOws(buf[p]!)) p++;
    if (p === e || buf[p] !== COMMA) return E_BAD_TRANSFER_ENCODING;
    p++;
    while (p < e && isOws(buf[p]!)) p++;
  }
  head.transferEncoding = state;
  return 0;
}

function isOws(c: number): boolean {
  return c === SP || c === HTAB;
}

/** Folds one Connection line into head.connection and head.connectionTokens. */
export function applyConnection(buf: Uint8Array, s: number, e: number, head: MessageHead): number {
  // The usual single option, without the list walk.
  if (equalsLower(buf, s, e, KEEP_ALIVE)) {
    head.connection |= CONN_KEEP_ALIVE;
    return 0;
  }
  if (equalsLower(buf, s, e, CLOSE)) {
    head.connection |= CONN_CLOSE;
    return 0;
  }
  let p = s;
  while (p < e) {
    const c = buf[p]!;
    if (isOws(c) || c === COMMA) {
      p++;
      continue;
    }
    const ts = p;
    while (p < e && TOKEN[buf[p]!] === 1) p++;
    if (p === ts) return E_BAD_CONNECTION;
    const te = p;
    while (p < e && isOws(buf[p]!)) p++;
    if (p < e && buf[p] !== COMMA) return E_BAD_CONNECTION;
    if (equalsLower(buf, ts, te, CLOSE)) head.connection |= CONN_CLOSE;
    else if (equalsLower(buf, ts, te, KEEP_ALIVE)) head.connection |= CONN_KEEP_ALIVE;
    else if (equalsLower(buf, ts, te, UPGRADE)) head.connection |= CONN_UPGRADE;
    else {
      const token = latin1Lower(buf, ts, te);
      if (head.connectionTokens === null) head.connectionTokens = [token];
      else head.connectionTokens.push(token);
    }
  }
  return 0;
}

/**
 * Applies field `i` when it is one of the framing/connection headers shared by
 * requests and responses. Returns 0 or an error code.
 */
export function applyCommonField(
  buf: Uint8Array,
  head: MessageHead,
  kind: number,
  i: number,
): number {
  const f = i << 2;
  const fields = head.fields;
  switch (kind) {
    case H_CONTENT_LENGTH: {
      const v = parseContentLength(buf, fields[f + 2]!, fields[f + 3]!);
      if (v < 0) return v === -2 ? E_CONTENT_LENGTH_CONFLICT : E_BAD_CONTENT_LENGTH;
      if (head.contentLength >= 0 && head.contentLength !== v) return E_CONTENT_LENGTH_CONFLICT;
      head.contentLength = v;
      return 0;
    }
    case H_TRANSFER_ENCODING:
      return applyTransferEncoding(buf, fields[f + 2]!, fields[f + 3]!, head);
    case H_CONNECTION:
      return applyConnection(buf, fields[f + 2]!, fields[f + 3]!, head);
    case H_UPGRADE:
      head.hasUpgradeField = true;
      return 0;
    default:
      return 0;
  }
}
