import { describe, expect, test } from "bun:test";
import {
  E_BAD_CONNECTION,
  E_BAD_CONTENT_LENGTH,
  E_BAD_FIELD_NAME,
  E_BAD_HOST,
  E_BAD_METHOD,
  E_BAD_REQUEST_LINE,
  E_BAD_TARGET,
  E_BAD_TRANSFER_ENCODING,
  E_BAD_VERSION,
  E_BARE_CR,
  E_BARE_LF,
  E_CL_AND_TE,
  E_CONNECT_WITH_BODY,
  E_CONTENT_LENGTH_CONFLICT,
  E_CONTROL_CHAR,
  E_EMPTY_FIELD_NAME,
  E_HEAD_TOO_LARGE,
  E_LINE_TOO_LONG,
  E_MISSING_COLON,
  E_MISSING_HOST,
  E_MULTIPLE_HOST,
  E_OBS_FOLD,
  E_SPACE_BEFORE_COLON,
  E_TE_IN_HTTP10,
  E_TE_NOT_CHUNKED,
  E_TOO_MANY_FIELDS,
  E_UNKNOWN_CODING,
  E_UNSUPPORTED_VERSION,
  errorReason,
  errorStatus,
  LOWEST_ERROR,
} from "../../src/http/request-head.ts";
import { req } from "./helpers.ts";

const H = "Host: a\r\n";
const get = (fields: string) => `GET / HTTP/1.1\r\n${fields}\r\n`;
const post = (fields: string) => `POST / HTTP/1.1\r\n${H}${fields}\r\n`;
const connect = (fields: string) => `CONNECT a.test:443 HTTP/1.1\r\n${H}${fields}\r\n`;

// [request, code, status]
const CASES: [string, number, number][] = [
  // framing
  [post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), E_CL_AND_TE, 400],
  [post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), E_CL_AND_TE, 400],
  [post("Content-Length: 5\r\nContent-Length: 6\r\n"), E_CONTENT_LENGTH_CONFLICT, 400],
  [post("Content-Length: 5, 6\r\n"), E_CONTENT_LENGTH_CONFLICT, 400],
  [post("Content-Length: abc\r\n"), E_BAD_CONTENT_LENGTH, 400],
  [post("Content-Length:\r\n"), E_BAD_CONTENT_LENGTH, 400],
  [post("Content-Length: +5\r\n"), E_BAD_CONTENT_LENGTH, 400],
  [post("Content-Length: -5\r\n"), E_BAD_CONTENT_LENGTH, 400],
  [post("Content-Length: 5a\r\n"), E_BAD_CONTENT_LENGTH, 400],
  [post("Content-Length: 1 2\r\n"), E_BAD_CONTENT_LENGTH, 400],
  [post("Content-Length: 5,\r\n"), E_BAD_CONTENT_LENGTH, 400],
  [post("Content-Length: 0x10\r\n"), E_BAD_CONTENT_LENGTH, 400],
  [post("Content-Length: 9007199254740992\r\n"), E_BAD_CONTENT_LENGTH, 400],
  [post("Content-Length: 99999999999999999999999\r\n"), E_BAD_CONTENT_LENGTH, 400],
  [post("Transfer-Encoding: gzip\r\n"), E_TE_NOT_CHUNKED, 400],
  [post("Transfer-Encoding: chunked, gzip\r\n"), E_TE_NOT_CHUNKED, 400],
  [post("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n"), E_TE_NOT_CHUNKED, 400],
  [post("Transfer-Encoding: xchunked\r\n"), E_TE_NOT_CHUNKED, 400],
  [post("Transfer-Encoding: chunkedx\r\n"), E_TE_NOT_CHUNKED, 400],
  [post("Transfer-Encoding: identity\r\n"), E_TE_NOT_CHUNKED, 400],
  [post("Transfer-Encoding: chunked, chunked\r\n"), E_BAD_TRANSFER_ENCODING, 400],
  [
    post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
    E_BAD_TRANSFER_ENCODING,
    400,
  ],
  // OWS around the value and its commas is fine (request-head.test.ts); other
  // white space and control characters are not.
  [post("Transfer-Encoding: chunked\x0b\r\n"), E_CONTROL_CHAR, 400],
  [post("Transfer-Encoding: \x0cchunked\r\n"), E_CONTROL_CHAR, 400],
  [post("Transfer-Encoding: chunked\0\r\n"), E_CONTROL_CHAR, 400],
  [post("Transfer-Encoding: chunked\r \r\n"), E_BARE_CR, 400],
  [post("Transfer-Encoding: gzip\x0b, chunked\r\n"), E_CONTROL_CHAR, 400],
  [post("Transfer-Encoding: gzip \t \r\nTransfer-Encoding:\t\r\n"), E_BAD_TRANSFER_ENCODING, 400],
  [post("Transfer-Encoding: gzip , \r\n"), E_BAD_TRANSFER_ENCODING, 400],
  [post("Transfer-Encoding: \t, chunked\r\n"), E_BAD_TRANSFER_ENCODING, 400],
  [post("Transfer-Encoding: gzip chunked\r\n"), E_BAD_TRANSFER_ENCODING, 400],
  [post("Transfer-Encoding: chunked ;q=1\r\n"), E_BAD_TRANSFER_ENCODING, 400],
  [post("Transfer-Encoding: chunked \r\nContent-Length: 5\r\n"), E_CL_AND_TE, 400],
  [post("Content-Length: 5\x0b\r\n"), E_CONTROL_CHAR, 400],
  [post("Content-Length: 5 \x0c\r\n"), E_CONTROL_CHAR, 400],
  [post("Content-Length: \t5\t6\t\r\n"), E_BAD_CONTENT_LENGTH, 400],
  [post("Content-Length: 5\r \r\n"), E_BARE_CR, 400],
  [post("Transfer-Encoding: chunked;q=1\r\n"), E_BAD_TRANSFER_ENCODING, 400],
  [post("Transfer-Encoding: gzip,,chunked\r\n"), E_BAD_TRANSFER_ENCODING, 400],
  [post("Transfer-Encoding:\r\n"), E_BAD_TRANSFER_ENCODING, 400],
  [post('Transfer-Encoding: "chunked"\r\n'), E_BAD_TRANSFER_ENCODING, 400],
  [post("Transfer-Encoding: foo, chunked\r\n"), E_UNKNOWN_CODING, 501],
  ["POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", E_TE_IN_HTTP10, 400],
  // CONNECT has no content (RFC 9110 §9.3.6): any framing header is refused.
  [connect("Content-Length: 39\r\n"), E_CONNECT_WITH_BODY, 400],
  [connect("Content-Length: 0\r\n"), E_CONNECT_WITH_BODY, 400],
  [connect("Content-Length: 0, 0\r\n"), E_CONNECT_WITH_BODY, 400],
  [connect("Transfer-Encoding: chunked\r\n"), E_CONNECT_WITH_BODY, 400],
  [connect("Transfer-Encoding: gzip\r\n"), E_CONNECT_WITH_BODY, 400],
  [connect("Transfer-Encoding: chunked \r\nContent-Length: 4\r\n"), E_CONNECT_WITH_BODY, 400],
  [connect("content-length:\t7 \r\n"), E_CONNECT_WITH_BODY, 400],
  ["CONNECT a.test:443 HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", E_CONNECT_WITH_BODY, 400],
  [connect("Content-Length: x\r\n"), E_BAD_CONTENT_LENGTH, 400],
  // field syntax
  [get(`${H}X-A: a\r\n b\r\n`), E_OBS_FOLD, 400],
  [get(`${H}X-A: a\r\n\tb\r\n`), E_OBS_FOLD, 400],
  [`GET / HTTP/1.1\r\n ${H}\r\n`, E_OBS_FOLD, 400],
  [get(`Host : a\r\n`), E_SPACE_BEFORE_COLON, 400],
  [get(`${H}Content-Length\t: 1\r\n`), E_SPACE_BEFORE_COLON, 400],
  [get(`${H}: a\r\n`), E_EMPTY_FIELD_NAME, 400],
  [get(`${H}X(A): a\r\n`), E_BAD_FIELD_NAME, 400],
  [get(`${H}X\xe9: a\r\n`), E_BAD_FIELD_NAME, 400],
  [get(`${H}X-A\r\n`), E_MISSING_COLON, 400],
  [get(`${H}X-\0A: a\r\n`), E_CONTROL_CHAR, 400],
  [get(`${H}X-A: a\0b\r\n`), E_CONTROL_CHAR, 400],
  [get(`${H}X-A: a\x7fb\r\n`), E_CONTROL_CHAR, 400],
  [get(`${H}X-A: a\x01\r\n`), E_CONTROL_CHAR, 400],
  [get(`${H}X-A: a\rb\r\n`), E_BARE_CR, 400],
  [get(`${H}X-A: a\r\r\n`), E_BARE_CR, 400],
  ["GET / HTTP/1.1\r\nHost: a\r\n\rX", E_BARE_CR, 400],
  ["\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", E_BARE_CR, 400],
  ["GET / HTTP/1.1\rHost: a\r\n\r\n", E_BARE_CR, 400],
  // bare LF
  ["GET / HTTP/1.1\nHost: a\n\n", E_BARE_LF, 400],
  ["GET / HTTP/1.1\r\nHost: a\n\r\n", E_BARE_LF, 400],
  ["GET / HTTP/1.1\r\nHost: a\r\n\n", E_BARE_LF, 400],
  ["\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", E_BARE_LF, 400],
  ["GET / HTTP/1.1\r\nX-A\nHost: a\r\n\r\n", E_BARE_LF, 400],
  // request line
  ["GET /\r\n\r\n", E_BAD_REQUEST_LINE, 400],
  ["GET\r\n\r\n", E_BAD_REQUEST_LINE, 400],
  [" GET / HTTP/1.1\r\nHost: a\r\n\r\n", E_BAD_REQUEST_LINE, 400],
  ["GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", E_BAD_REQUEST_LINE, 400],
  ["GET / HTTP/1.1 \r\nHost: a\r\n\r\n", E_BAD_REQUEST_LINE, 400],
  ["GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", E_BAD_REQUEST_LINE, 400],
  ["G@T / HTTP/1.1\r\nHost: a\r\n\r\n", E_BAD_METHOD, 400],
  ["(GET) / HTTP/1.1\r\nHost: a\r\n\r\n", E_BAD_METHOD, 400],
  ["GET  / HTTP/1.1\r\nHost: a\r\n\r\n", E_BAD_TARGET, 400],
  ["GET /a\0 HTTP/1.1\r\nHost: a\r\n\r\n", E_BAD_TARGET, 400],
  ["GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", E_BAD_TARGET, 400],
  ["GET /caf\xe9 HTTP/1.1\r\nHost: a\r\n\r\n", E_BAD_TARGET, 400],
  ["GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n", E_BAD_TARGET, 400],
  ["GET index.html HTTP/1.1\r\nHost: a\r\n\r\n", E_BAD_TARGET, 400],
  ["GET * HTTP/1.1\r\nHost: a\r\n\r\n", E_BAD_TARGET, 400],
  ["OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n", E_BAD_TARGET, 400],
  ["CONNECT * HTTP/1.1\r\nHost: a\r\n\r\n", E_BAD_TARGET, 400],
  ["CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n", E_BAD_TARGET, 400],
  ["CONNECT example.com HTTP/1.1\r\nHost: a\r\n\r\n", E_BAD_TARGET, 400],
  ["CONNECT example.com: HTTP/1.1\r\nHost: a\r\n\r\n", E_BAD_TARGET, 400],
  ["CONNECT user@example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n", E_BAD_TARGET, 400],
  ["GET example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n", E_BAD_TARGET, 400],
  ["GET ftp://example.com/ HTTP/1.1\r\nHost: a\r\n\r\n", E_BAD_TARGET, 400],
  ["GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", E_BAD_TARGET, 400],
  ["GET http://user@example.com/ HTTP/1.1\r\nHost: a\r\n\r\n", E_BAD_TARGET, 400],
  ["GET http:/example.com/ HTTP/1.1\r\nHost: a\r\n\r\n", E_BAD_TARGET, 400],
  // version
  ["GET / HTTP/2.0\r\nHost: a\r\n\r\n", E_UNSUPPORTED_VERSION, 505],
  ["GET / HTTP/1.2\r\nHost: a\r\n\r\n", E_UNSUPPORTED_VERSION, 505],
  ["GET / HTTP/0.9\r\n\r\n", E_UNSUPPORTED_VERSION, 505],
  ["GET / HTTP/3.0\r\nHost: a\r\n\r\n", E_UNSUPPORTED_VERSION, 505],
  ["GET / HTTP/1\r\nHost: a\r\n\r\n", E_BAD_VERSION, 400],
  ["GET / http/1.1\r\nHost: a\r\n\r\n", E_BAD_VERSION, 400],
  ["GET / HTTP/1.10\r\nHost: a\r\n\r\n", E_BAD_VERSION, 400],
  ["GET / HTTP/1.x\r\nHost: a\r\n\r\n", E_BAD_VERSION, 400],
  ["GET / HTTP/2\r\nHost: a\r\n\r\n", E_BAD_VERSION, 400],
  ["GET / HTTPS/1.1\r\nHost: a\r\n\r\n", E_BAD_VERSION, 400],
  ["GET / \r\nHost: a\r\n\r\n", E_BAD_VERSION, 400],
  // Host
  [get(""), E_MISSING_HOST, 400],
  [get("X-Host: a\r\n"), E_MISSING_HOST, 400],
  [get(`${H}${H}`), E_MULTIPLE_HOST, 400],
  ["GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", E_MULTIPLE_HOST, 400],
  [get("Host: a b\r\n"), E_BAD_HOST, 400],
  [get("Host: a\tb\r\n"), E_BAD_HOST, 400],
  [get("Host: a/b\r\n"), E_BAD_HOST, 400],
  [get("Host: user@a\r\n"), E_BAD_HOST, 400],
  [get("Host: a:8x\r\n"), E_BAD_HOST, 400],
  [get("Host: a:123456\r\n"), E_BAD_HOST, 400],
  [get("Host: :80\r\n"), E_BAD_HOST, 400],
  [get("Host: [::1\r\n"), E_BAD_HOST, 400],
  [get("Host: a\xe9\r\n"), E_BAD_HOST, 400],
  [get("Host: a\x01\r\n"), E_CONTROL_CHAR, 400],
  // Connection
  [get(`${H}Connection: close; x\r\n`), E_BAD_CONNECTION, 400],
  [get(`${H}Connection: close x\r\n`), E_BAD_CONNECTION, 400],
];

describe("rejected request heads", () => {
  for (const [text, code, status] of CASES) {
    test(`${JSON.stringify(text)} -> ${status} ${errorReason(code)}`, () => {
      const { r } = req(text);
      expect(r).toBe(code);
      expect(errorStatus(r)).toBe(status);
    });
  }

  test("every code has a reason and a status", () => {
    for (let code = -1; code >= LOWEST_ERROR; code--) {
      expect(errorReason(code)).not.toBe("unknown error");
      expect([400, 414, 431, 501, 505]).toContain(errorStatus(code));
    }
  });
});

describe("limits", () => {
  const limits = { maxRequestLine: 64, maxHeadSize: 256, maxHeaders: 4 };
  const line = (n: number) => `GET /${"a".repeat(n - 14)} HTTP/1.1`;

  test("request line at the limit passes, one byte more is 414", () => {
    expect(line(64).length).toBe(64);
    expect(req(`${line(64)}\r\n${H}\r\n`, limits).r).toBeGreaterThan(0);
    expect(req(`${line(65)}\r\n${H}\r\n`, limits).r).toBe(E_LINE_TOO_LONG);
    expect(errorStatus(E_LINE_TOO_LONG)).toBe(414);
  });

  test("an incomplete request line already too long is 414", () => {
    expect(req(`GET /${"a".repeat(59)}`, limits).r).toBe(0);
    expect(req(`GET /${"a".repeat(60)}`, limits).r).toBe(E_LINE_TOO_LONG);
    expect(req(`GET /${"a".repeat(200)}`, limits).r).toBe(E_LINE_TOO_LONG);
  });

  test("field count", () => {
    const fields = (n: number) => `GET / HTTP/1.1\r\n${H}${"X: y\r\n".repeat(n - 1)}\r\n`;
    expect(req(fields(4), limits).r).toBeGreaterThan(0);
    expect(req(fields(5), limits).r).toBe(E_TOO_MANY_FIELDS);
    expect(errorStatus(E_TOO_MANY_FIELDS)).toBe(431);
  });

  test("head size: exactly the limit passes, one more byte is 431, complete or not", () => {
    const pad = (n: number) => `GET / HTTP/1.1\r\n${H}X: ${"v".repeat(n)}\r\n\r\n`;
    const base = pad(0).length;
    const exact = pad(256 - base);
    expect(exact.length).toBe(256);
    expect(req(exact, limits).r).toBe(256);
    expect(req(pad(257 - base), limits).r).toBe(E_HEAD_TOO_LARGE);
    expect(req(pad(400).slice(0, 300), limits).r).toBe(E_HEAD_TOO_LARGE);
    expect(req(pad(400).slice(0, 256), limits).r).toBe(0);
    expect(errorStatus(E_HEAD_TOO_LARGE)).toBe(431);
  });

  test("default limits: a 16 KiB cookie header is 431", () => {
    const { r } = req(get(`${H}Cookie: ${"c".repeat(16384)}\r\n`));
    expect(r).toBe(E_HEAD_TOO_LARGE);
  });
});
