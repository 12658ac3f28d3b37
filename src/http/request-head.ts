// HTTP/1.1 request head parser (RFC 9112), strict because a load balancer
// that frames a request differently from the server behind it can be
// smuggled through.
//
// Bare LF policy: RFC 9112 §2.2 lets a recipient accept a bare LF as a line
// terminator. We reject it (400) everywhere in the head: a peer that splits
// lines differently from us is a smuggling vector. Leading empty lines (CRLF)
// before the request line are skipped.

import { latin1, latin1Lower, sameLatin1 } from "./bytes.ts";
import {
  E_BAD_HOST,
  E_CL_AND_TE,
  E_CONNECT_WITH_BODY,
  E_MISSING_HOST,
  E_MULTIPLE_HOST,
  E_TE_IN_HTTP10,
  E_TE_NOT_CHUNKED,
  E_UNKNOWN_CODING,
} from "./errors.ts";
import { applyCommonField } from "./field-values.ts";
import {
  CONN_CLOSE,
  CONN_KEEP_ALIVE,
  CONN_UPGRADE,
  MessageHead,
  parseFieldLines,
  TE_CHUNKED,
  TE_NONE,
} from "./head-fields.ts";
import { parseResumable } from "./head-scan.ts";
import {
  equalsLower,
  H_EXPECT,
  H_HOST,
  H_OTHER,
  H_X_FORWARDED_PROTO,
  H_X_FORWARDED_PROTOCOL,
  lowerBytes,
} from "./header-kinds.ts";
import { isHostPort } from "./host.ts";
import type { HeadLimits } from "./limits.ts";
import { METHOD_CONNECT, METHOD_GET, parseRequestLine } from "./request-line.ts";

export * from "./errors.ts";
export { fieldName, fieldValue } from "./head-fields.ts";
export * from "./header-kinds.ts";
export * from "./request-line.ts";

/** Parse target for one connection, reused for every request on it. */
export class RequestHead extends MessageHead {
  /** Standard methods are shared constants; others are decoded per request. */
  method = "GET";
  methodId = METHOD_GET;
  targetStart = 0;
  targetEnd = 0;
  /** 0 or 1: HTTP/1.0 or HTTP/1.1. */
  minor = 1;
  /** The Host value as sent, null when absent. */
  host: string | null = null;
  expectContinue = false;
  /** X-Forwarded-Proto, else X-Forwarded-Protocol, lowercased; null when neither. */
  xForwarded: string | null = null;
  // The previous Host string, reused when the next request sends the same bytes.
  lastHost = "";

  /** The request-target, decoded on demand. */
  target(buf: Uint8Array): string {
    return latin1(buf, this.targetStart, this.targetEnd);
  }

  reset(): void {
    this.clearRequest();
    this.clearScan();
    this.method = "GET";
    this.methodId = METHOD_GET;
    this.targetStart = 0;
    this.targetEnd = 0;
    this.minor = 1;
  }

  /** Clears what the fields yield; the request line overwrites the rest. */
  clearRequest(): void {
    this.clearCommon();
    this.host = null;
    this.expectContinue = false;
    this.xForwarded = null;
  }
}

const HTTPS = lowerBytes("https");
const HTTP = lowerBytes("http");
const CONTINUE = lowerBytes("100-continue");

function forwardedProto(buf: Uint8Array, s: number, e: number): string {
  if (equalsLower(buf, s, e, HTTPS)) return "https";
  if (equalsLower(buf, s, e, HTTP)) return "http";
  return latin1Lower(buf, s, e);
}

/** Semantics of the recorded fields: framing, Host, connection options. */
function applyRequestFields(buf: Uint8Array, head: RequestHead): number {
  const kinds = head.kinds;
  const fields = head.fields;
  const n = head.fieldCount;
  let hosts = 0;
  let proto = -1;
  let protocol = -1;
  for (let i = 0; i < n; i++) {
    const kind = kinds[i]!;
    if (kind === H_OTHER) continue;
    const vs = fields[(i << 2) + 2]!;
    const ve = fields[(i << 2) + 3]!;
    if (kind === H_HOST) {
      if (++hosts > 1) return E_MULTIPLE_HOST;
      // The previous request's Host was validated already: reuse it as is.
      if (sameLatin1(head.lastHost, buf, vs, ve)) head.host = head.lastHost;
      else {
        if (!isHostPort(buf, vs, ve, false)) return E_BAD_HOST;
        head.host = latin1(buf, vs, ve);
        head.lastHost = head.host;
      }
    } else if (kind === H_EXPECT) {
      // RFC 9110 §10.1.1: a 100-continue from an HTTP/1.0 client is ignored.
      if (head.minor === 1 && equalsLower(buf, vs, ve, CONTINUE)) head.expectContinue = true;
    } else if (kind === H_X_FORWARDED_PROTO) {
      if (proto < 0) proto = i;
    } else if (kind === H_X_FORWARDED_PROTOCOL) {
      if (protocol < 0) protocol = i;
    } else {
      const r = applyCommonField(buf, head, kind, i);
      if (r !== 0) return r;
    }
  }
  // RFC 9110 §9.3.6: a CONNECT has no content. With a framing header, the
  // bytes after its head would be forwarded as a body, and a backend that
  // refuses the tunnel but keeps reading would take them for a request of its
  // own. Any Content-Length or Transfer-Encoding is refused, "Content-Length: 0"
  // included: presence alone decides, so no peer can read a value differently,
  // and a zero length says nothing a CONNECT does not say already.
  if (
    head.methodId === METHOD_CONNECT &&
    (head.contentLength >= 0 || head.transferEncoding !== TE_NONE)
  ) {
    return E_CONNECT_WITH_BODY;
  }
  if (head.transferEncoding !== TE_NONE) {
    if (head.minor === 0) return E_TE_IN_HTTP10;
    if (head.contentLength >= 0) return E_CL_AND_TE;
    if (head.transferEncoding !== TE_CHUNKED) return E_TE_NOT_CHUNKED;
    if (head.unknownCoding) return E_UNKNOWN_CODING;
    head.chunked = true;
  }
  if (hosts === 0 && head.minor === 1) return E_MISSING_HOST;
  const conn = head.connection;
  head.keepAlive =
    (conn & CONN_CLOSE) === 0 && (head.minor === 1 || (conn & CONN_KEEP_ALIVE) !== 0);
  head.upgrade = (conn & CONN_UPGRADE) !== 0 && head.hasUpgradeField;
  const xf = proto >= 0 ? proto : protocol;
  if (xf >= 0)
    head.xForwarded = forwardedProto(buf, fields[(xf << 2) + 2]!, fields[(xf << 2) + 3]!);
  return 0;
}

function parseFull(
  buf: Uint8Array,
  start: number,
  end: number,
  head: RequestHead,
  limits: HeadLimits,
): number {
  head.clearRequest();
  const lim = Math.min(end, start + limits.maxHeadSize);
  let p = parseRequestLine(buf, start, lim, end, head, limits.maxRequestLine);
  if (p <= 0) return p;
  p = parseFieldLines(buf, p, lim, end, head, limits.maxHeaders);
  if (p <= 0) return p;
  const r = applyRequestFields(buf, head);
  if (r !== 0) return r;
  head.headLength = p - start;
  return head.headLength;
}

/**
 * Parses the request head in buf[start, end) into `head`. Returns the head
 * length when complete, NEED_MORE, or a negative error code (see errorStatus /
 * errorReason). After NEED_MORE call again with the same bytes at `start` and
 * more after them (the buffer may move); call head.reset() before parsing
 * unrelated bytes. Bytes past `end` may be read but never affect the result.
 */
export function parseRequestHead(
  buf: Uint8Array,
  start: number,
  end: number,
  head: RequestHead,
  limits: HeadLimits,
): number {
  return parseResumable(buf, start, end, head, limits, parseFull);
}
