// Storage shared by request and response heads, and the field-line loop that
// fills it: offsets only, no strings.

import { latin1 } from "./bytes.ts";
import { COLON, CR, FIELD_VALUE, HTAB, LF, SP, TOKEN } from "./chars.ts";
import {
  E_BAD_FIELD_NAME,
  E_BARE_CR,
  E_BARE_LF,
  E_CONTROL_CHAR,
  E_EMPTY_FIELD_NAME,
  E_HEAD_TOO_LARGE,
  E_MISSING_COLON,
  E_OBS_FOLD,
  E_SPACE_BEFORE_COLON,
  E_TOO_MANY_FIELDS,
  NEED_MORE,
} from "./errors.ts";
import { headerKind } from "./header-kinds.ts";

const INITIAL_FIELDS = 32;

/** Transfer-Encoding summary (MessageHead.transferEncoding). */
export const TE_NONE = 0;
export const TE_CHUNKED = 1;
/** Codings present, chunked absent. */
export const TE_OTHER = 2;
/** chunked present but followed by another coding. */
export const TE_CHUNKED_NOT_LAST = 3;

/** Connection option bits (MessageHead.connection). */
export const CONN_CLOSE = 1;
export const CONN_KEEP_ALIVE = 2;
export const CONN_UPGRADE = 4;

export class MessageHead {
  /** Bytes from the start through the final CRLFCRLF. */
  headLength = 0;
  fieldCount = 0;
  /** Four offsets per field: lineStart, nameEnd, valueStart, valueEnd (value trimmed of OWS). */
  fields: Int32Array = new Int32Array(INITIAL_FIELDS * 4);
  /** Per field: offset just after the line's LF. */
  lineEnds: Int32Array = new Int32Array(INITIAL_FIELDS);
  /** Per field: known-header id (H_*). */
  kinds: Uint8Array = new Uint8Array(INITIAL_FIELDS);
  /** -1 when absent. */
  contentLength = -1;
  /** The final transfer coding is chunked. */
  chunked = false;
  keepAlive = false;
  upgrade = false;
  /** Lowercased Connection options other than close/keep-alive/upgrade, null when none. */
  connectionTokens: string[] | null = null;
  transferEncoding = TE_NONE;
  /** Transfer-Encoding names a coding other than the registered ones. */
  unknownCoding = false;
  connection = 0;
  hasUpgradeField = false;
  // Blank-line scanner resume point, relative to `start`; scanPos 0 means idle.
  scanPos = 0;
  scanLineStart = 0;
  scanLines = 0;

  /** Clears what one parse derives, keeping the arrays. */
  protected clearCommon(): void {
    this.headLength = 0;
    this.fieldCount = 0;
    this.contentLength = -1;
    this.chunked = false;
    this.keepAlive = false;
    this.upgrade = false;
    this.connectionTokens = null;
    this.transferEncoding = TE_NONE;
    this.unknownCoding = false;
    this.connection = 0;
    this.hasUpgradeField = false;
  }

  clearScan(): void {
    this.scanPos = 0;
    this.scanLineStart = 0;
    this.scanLines = 0;
  }

  grow(): void {
    const n = this.kinds.length * 2;
    const fields = new Int32Array(n * 4);
    fields.set(this.fields);
    this.fields = fields;
    const lineEnds = new Int32Array(n);
    lineEnds.set(this.lineEnds);
    this.lineEnds = lineEnds;
    const kinds = new Uint8Array(n);
    kinds.set(this.kinds);
    this.kinds = kinds;
  }
}

/** Out of bytes at `lim`: wait for more, unless the size limit is what stopped us. */
export function ranOut(lim: number, end: number): number {
  return lim < end ? E_HEAD_TOO_LARGE : NEED_MORE;
}

function nameError(c: number, empty: boolean): number {
  if (c === SP || c === HTAB) return empty ? E_OBS_FOLD : E_SPACE_BEFORE_COLON;
  if (c === LF) return E_BARE_LF;
  if (c === CR) return E_MISSING_COLON;
  if (c < SP || c === 0x7f) return E_CONTROL_CHAR;
  return E_BAD_FIELD_NAME;
}

/**
 * Field lines from `p` through the blank line, using no byte at or past `lim`
 * (the head size bound) of the `end` bytes available. Returns the offset just
 * past the blank line, NEED_MORE, or an error code.
 *
 * The inner byte loops carry no bounds test: they stop at the first byte
 * outside their class (a CR at the latest, or the array's end) and overshoot
 * past `lim` is checked once afterwards. Bytes past `lim` may be read but
 * never decide the result.
 */
export function parseFieldLines(
  buf: Uint8Array,
  p: number,
  lim: number,
  end: number,
  head: MessageHead,
  maxHeaders: number,
): number {
  let fields = head.fields;
  let lineEnds = head.lineEnds;
  let kinds = head.kinds;
  let n = 0;
  for (;;) {
    if (p >= lim) return ranOut(lim, end);
    const ls = p;
    let c = buf[p]!;
    if (c === CR) {
      if (p + 1 >= lim) return ranOut(lim, end);
      if (buf[p + 1] !== LF) return E_BARE_CR;
      head.fieldCount = n;
      return p + 2;
    }
    if (n >= maxHeaders) return E_TOO_MANY_FIELDS;
    while (TOKEN[buf[p]!] === 1) p++;
    if (p >= lim) return ranOut(lim, end);
    c = buf[p]!;
    if (c !== COLON) return nameError(c, p === ls);
    if (p === ls) return E_EMPTY_FIELD_NAME;
    const nameEnd = p++;
    while (p < lim) {
      c = buf[p]!;
      if (c !== SP && c !== HTAB) break;
      p++;
    }
    const vs = p;
    while (FIELD_VALUE[buf[p]!] === 1) p++;
    if (p + 1 >= lim) return p < lim && buf[p] !== CR ? valueError(buf[p]!) : ranOut(lim, end);
    if (buf[p] !== CR) return valueError(buf[p]!);
    if (buf[p + 1] !== LF) return E_BARE_CR;
    // Trailing OWS is not part of the value.
    let ve = p;
    while (ve > vs) {
      c = buf[ve - 1]!;
      if (c !== SP && c !== HTAB) break;
      ve--;
    }
    p += 2;
    if (n === kinds.length) {
      head.grow();
      fields = head.fields;
      lineEnds = head.lineEnds;
      kinds = head.kinds;
    }
    const f = n << 2;
    fields[f] = ls;
    fields[f + 1] = nameEnd;
    fields[f + 2] = vs;
    fields[f + 3] = ve;
    lineEnds[n] = p;
    kinds[n] = headerKind(buf, ls, nameEnd);
    n++;
  }
}

function valueError(c: number): number {
  return c === LF ? E_BARE_LF : E_CONTROL_CHAR;
}

/** Name of field `i` as a string (slow path). */
export function fieldName(buf: Uint8Array, head: MessageHead, i: number): string {
  return latin1(buf, head.fields[i << 2]!, head.fields[(i << 2) + 1]!);
}

/** Value of field `i` as a string, OWS trimmed (slow path). */
export function fieldValue(buf: Uint8Array, head: MessageHead, i: number): string {
  return latin1(buf, head.fields[(i << 2) + 2]!, head.fields[(i << 2) + 3]!);
}
