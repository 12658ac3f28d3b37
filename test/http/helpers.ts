import { fieldName, fieldValue } from "../../src/http/head-fields.ts";
import { DEFAULT_LIMITS, type HeadLimits } from "../../src/http/limits.ts";
import { parseRequestHead, RequestHead } from "../../src/http/request-head.ts";
import { parseResponseHead, ResponseHead } from "../../src/http/response-head.ts";

export const enc = (s: string): Buffer => Buffer.from(s, "latin1");

export interface Parsed<H> {
  r: number;
  head: H;
  buf: Buffer;
}

export function req(
  text: string | Buffer,
  limits: HeadLimits = DEFAULT_LIMITS,
): Parsed<RequestHead> {
  const buf = typeof text === "string" ? enc(text) : text;
  const head = new RequestHead();
  return { r: parseRequestHead(buf, 0, buf.length, head, limits), head, buf };
}

export function res(
  text: string | Buffer,
  limits: HeadLimits = DEFAULT_LIMITS,
): Parsed<ResponseHead> {
  const buf = typeof text === "string" ? enc(text) : text;
  const head = new ResponseHead();
  return { r: parseResponseHead(buf, 0, buf.length, head, limits), head, buf };
}

/** Everything a request parse yields, as plain data for deep comparison. */
export function snapshotRequest(buf: Uint8Array, h: RequestHead, base = 0) {
  return {
    method: h.method,
    target: h.target(buf),
    minor: h.minor,
    headLength: h.headLength,
    fields: Array.from({ length: h.fieldCount }, (_, i) => [
      fieldName(buf, h, i),
      fieldValue(buf, h, i),
      h.kinds[i],
      h.lineEnds[i]! - base,
    ]),
    host: h.host,
    contentLength: h.contentLength,
    chunked: h.chunked,
    keepAlive: h.keepAlive,
    upgrade: h.upgrade,
    expectContinue: h.expectContinue,
    connectionTokens: h.connectionTokens,
    xForwarded: h.xForwarded,
  };
}

export function snapshotResponse(buf: Uint8Array, h: ResponseHead, base = 0) {
  return {
    status: h.status,
    minor: h.minor,
    headLength: h.headLength,
    fields: Array.from({ length: h.fieldCount }, (_, i) => [
      fieldName(buf, h, i),
      fieldValue(buf, h, i),
      h.kinds[i],
      h.lineEnds[i]! - base,
    ]),
    contentLength: h.contentLength,
    chunked: h.chunked,
    keepAlive: h.keepAlive,
    upgrade: h.upgrade,
    connectionTokens: h.connectionTokens,
  };
}
