// HTTP/1.1 response head parser for backend responses. Strict where framing is
// at stake (the next response on the connection must start where we think),
// tolerant of harmless quirks: empty or missing reason phrase, obs-text.
// Bare LF is rejected here too, as in request heads.

import { CR, FIELD_VALUE, LF, SLASH, SP } from "./chars.ts";
import {
  E_BAD_STATUS_LINE,
  E_BARE_CR,
  E_BARE_LF,
  E_LINE_TOO_LONG,
  E_UNSUPPORTED_VERSION,
} from "./errors.ts";
import { applyCommonField } from "./field-values.ts";
import {
  CONN_CLOSE,
  CONN_KEEP_ALIVE,
  MessageHead,
  parseFieldLines,
  ranOut,
  TE_CHUNKED,
  TE_NONE,
} from "./head-fields.ts";
import { parseResumable } from "./head-scan.ts";
import { H_OTHER } from "./header-kinds.ts";
import type { HeadLimits } from "./limits.ts";

export { fieldName, fieldValue } from "./head-fields.ts";

/** How the body of a response is delimited. */
export const BodyKind = { None: 0, Length: 1, Chunked: 2, UntilClose: 3 } as const;
export type BodyKind = (typeof BodyKind)[keyof typeof BodyKind];

/** Parse target for one backend connection, reused for every response on it. */
export class ResponseHead extends MessageHead {
  status = 0;
  /** 0 or 1: HTTP/1.0 or HTTP/1.1. */
  minor = 1;

  reset(): void {
    this.clearResponse();
    this.clearScan();
  }

  /** Clears what one parse derives, keeping the resume state. */
  clearResponse(): void {
    this.clearCommon();
    this.status = 0;
    this.minor = 1;
  }
}

/** Whether a response to `requestMethod` with `status` carries a body (RFC 9110 §6.4.1). */
export function responseHasBody(requestMethod: string, status: number): boolean {
  if (status < 200 || status === 204 || status === 304) return false;
  if (requestMethod === "HEAD") return false;
  // A successful CONNECT turns the connection into a tunnel.
  return !(requestMethod === "CONNECT" && status < 300);
}

/** RFC 9112 §6.3 message body length rules for a response. */
export function responseBodyKind(head: ResponseHead, requestMethod: string): BodyKind {
  if (!responseHasBody(requestMethod, head.status)) return BodyKind.None;
  if (head.chunked) return BodyKind.Chunked;
  if (head.transferEncoding !== TE_NONE) return BodyKind.UntilClose;
  if (head.contentLength >= 0) return BodyKind.Length;
  return BodyKind.UntilClose;
}

const HTTP_SLASH = [0x48, 0x54, 0x54, 0x50, SLASH];

/** status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF */
function parseStatusLine(
  buf: Uint8Array,
  p: number,
  lim: number,
  end: number,
  head: ResponseHead,
  maxLine: number,
): number {
  while (p < lim && buf[p] === CR) {
    if (p + 1 >= lim) return ranOut(lim, end);
    if (buf[p + 1] !== LF) return E_BARE_CR;
    p += 2;
  }
  const ls = p;
  const tooLong = ls + maxLine + 1;
  const b = Math.min(lim, tooLong);
  // Fixed part: "HTTP/x.y NNN", validated as it arrives.
  const fixed = Math.min(b, ls + 12);
  for (; p < fixed; p++) {
    const c = buf[p]!;
    const k = p - ls;
    const ok =
      k === 8
        ? c === SP
        : k === 5 || k === 7 || k >= 9
          ? c >= 0x30 && c <= 0x39
          : k === 6
            ? c === 0x2e
            : c === HTTP_SLASH[k];
    if (!ok) return c === LF ? E_BARE_LF : E_BAD_STATUS_LINE;
  }
  if (p < ls + 12) return b === tooLong ? E_LINE_TOO_LONG : ranOut(lim, end);
  if (p < b && buf[p] === SP) p++;
  while (p < b && FIELD_VALUE[buf[p]!] === 1) p++;
  if (p >= b) return b === tooLong ? E_LINE_TOO_LONG : ranOut(lim, end);
  const c = buf[p]!;
  if (c !== CR) return c === LF ? E_BARE_LF : E_BAD_STATUS_LINE;
  // A reason phrase must follow a space.
  if (p > ls + 12 && buf[ls + 12] !== SP) return E_BAD_STATUS_LINE;
  if (p + 1 >= lim) return ranOut(lim, end);
  if (buf[p + 1] !== LF) return E_BARE_CR;
  if (buf[ls + 5] !== 0x31 || buf[ls + 7]! > 0x31) return E_UNSUPPORTED_VERSION;
  const status = (buf[ls + 9]! - 0x30) * 100 + (buf[ls + 10]! - 0x30) * 10 + (buf[ls + 11]! - 0x30);
  if (status < 100 || status > 599) return E_BAD_STATUS_LINE;
  head.status = status;
  head.minor = buf[ls + 7]! - 0x30;
  return p + 2;
}

function applyResponseFields(buf: Uint8Array, head: ResponseHead): number {
  const kinds = head.kinds;
  const n = head.fieldCount;
  for (let i = 0; i < n; i++) {
    const kind = kinds[i]!;
    if (kind === H_OTHER) continue;
    const r = applyCommonField(buf, head, kind, i);
    if (r !== 0) return r;
  }
  const conn = head.connection;
  let keepAlive = (conn & CONN_CLOSE) === 0 && (head.minor === 1 || (conn & CONN_KEEP_ALIVE) !== 0);
  if (head.transferEncoding !== TE_NONE) {
    // RFC 9112 §6.3: Transfer-Encoding overrides Content-Length, but a message
    // carrying both, from HTTP/1.0, or not ending in chunked, is read until
    // close and the connection is not reused.
    if (head.contentLength >= 0 || head.minor === 0 || head.transferEncoding !== TE_CHUNKED) {
      keepAlive = false;
    }
    head.chunked = head.minor === 1 && head.transferEncoding === TE_CHUNKED;
    head.contentLength = -1;
  }
  head.keepAlive = keepAlive;
  head.upgrade = head.status === 101;
  return 0;
}

function parseFull(
  buf: Uint8Array,
  start: number,
  end: number,
  head: ResponseHead,
  limits: HeadLimits,
): number {
  head.clearResponse();
  const lim = Math.min(end, start + limits.maxHeadSize);
  let p = parseStatusLine(buf, start, lim, end, head, limits.maxRequestLine);
  if (p <= 0) return p;
  p = parseFieldLines(buf, p, lim, end, head, limits.maxHeaders);
  if (p <= 0) return p;
  const r = applyResponseFields(buf, head);
  if (r !== 0) return r;
  head.headLength = p - start;
  return head.headLength;
}

/**
 * Parses the response head in buf[start, end) into `head`: the head length,
 * NEED_MORE, or a negative error code (answer the client 502).
 */
export function parseResponseHead(
  buf: Uint8Array,
  start: number,
  end: number,
  head: ResponseHead,
  limits: HeadLimits,
): number {
  return parseResumable(buf, start, end, head, limits, parseFull);
}
