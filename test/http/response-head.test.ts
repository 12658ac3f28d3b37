import { describe, expect, test } from "bun:test";
import {
  E_BAD_CONNECTION,
  E_BAD_CONTENT_LENGTH,
  E_BAD_STATUS_LINE,
  E_BAD_TRANSFER_ENCODING,
  E_BARE_CR,
  E_BARE_LF,
  E_CONTENT_LENGTH_CONFLICT,
  E_CONTROL_CHAR,
  E_HEAD_TOO_LARGE,
  E_LINE_TOO_LONG,
  E_OBS_FOLD,
  E_UNSUPPORTED_VERSION,
  NEED_MORE,
} from "../../src/http/errors.ts";
import { H_CONTENT_LENGTH, H_OTHER } from "../../src/http/header-kinds.ts";
import { DEFAULT_LIMITS } from "../../src/http/limits.ts";
import {
  BodyKind,
  fieldValue,
  parseResponseHead,
  ResponseHead,
  responseBodyKind,
  responseHasBody,
} from "../../src/http/response-head.ts";
import { enc, res, snapshotResponse } from "./helpers.ts";

const ok = (fields: string, status = "200 OK", version = "1.1") =>
  `HTTP/${version} ${status}\r\n${fields}\r\n`;

describe("valid response heads", () => {
  test("200 with Content-Length", () => {
    const text = ok("Content-Length: 12\r\nContent-Type: text/plain\r\n");
    const { r, head, buf } = res(text);
    expect(r).toBe(text.length);
    expect([head.status, head.minor, head.contentLength, head.keepAlive, head.chunked]).toEqual([
      200,
      1,
      12,
      true,
      false,
    ]);
    expect(Array.from(head.kinds.subarray(0, 2))).toEqual([H_CONTENT_LENGTH, H_OTHER]);
    expect(fieldValue(buf, head, 1)).toBe("text/plain");
    expect(responseBodyKind(head, "GET")).toBe(BodyKind.Length);
    expect(responseBodyKind(head, "HEAD")).toBe(BodyKind.None);
  });

  test("reason phrase may be empty, missing or odd", () => {
    for (const line of [
      "HTTP/1.1 200 \r\n",
      "HTTP/1.1 200\r\n",
      "HTTP/1.1 404 Nicht gefunden \xe9\t!\r\n",
    ]) {
      const { r, head } = res(`${line}Content-Length: 0\r\n\r\n`);
      expect(r).toBeGreaterThan(0);
      expect(head.status).toBe(line.includes("404") ? 404 : 200);
    }
  });

  test("chunked and until-close framing", () => {
    const chunked = res(ok("Transfer-Encoding: chunked\r\n")).head;
    expect([chunked.chunked, chunked.keepAlive, responseBodyKind(chunked, "GET")]).toEqual([
      true,
      true,
      BodyKind.Chunked,
    ]);
    const both = res(ok("Content-Length: 10\r\nTransfer-Encoding: chunked\r\n")).head;
    expect([both.chunked, both.contentLength, both.keepAlive]).toEqual([true, -1, false]);
    for (const te of ["gzip", "chunked, gzip"]) {
      const h = res(ok(`Transfer-Encoding: ${te}\r\nContent-Length: 3\r\n`)).head;
      expect([h.chunked, h.keepAlive, responseBodyKind(h, "GET")]).toEqual([
        false,
        false,
        BodyKind.UntilClose,
      ]);
    }
    const none = res(ok("Content-Type: text/html\r\n")).head;
    expect(responseBodyKind(none, "GET")).toBe(BodyKind.UntilClose);
    const old = res(ok("Transfer-Encoding: chunked\r\n", "200 OK", "1.0")).head;
    expect([old.chunked, old.keepAlive, responseBodyKind(old, "GET")]).toEqual([
      false,
      false,
      BodyKind.UntilClose,
    ]);
    expect(res(ok("Transfer-Encoding: foo, chunked\r\n")).head.chunked).toBe(true);
  });

  test("no body for HEAD, 1xx, 204, 304, successful CONNECT", () => {
    expect(responseHasBody("HEAD", 200)).toBe(false);
    for (const s of [100, 101, 103, 204, 304]) expect(responseHasBody("GET", s)).toBe(false);
    expect(responseHasBody("CONNECT", 200)).toBe(false);
    expect(responseHasBody("CONNECT", 407)).toBe(true);
    expect(responseHasBody("GET", 200)).toBe(true);
    expect(responseHasBody("POST", 500)).toBe(true);
    const h = res(ok("Content-Length: 5\r\n", "304 Not Modified")).head;
    expect(responseBodyKind(h, "GET")).toBe(BodyKind.None);
  });

  test("keep-alive per version and Connection", () => {
    expect(res(ok("Content-Length: 0\r\n", "200 OK", "1.0")).head.keepAlive).toBe(false);
    expect(res(ok("Connection: keep-alive\r\n", "200 OK", "1.0")).head.keepAlive).toBe(true);
    const h = res(ok("Connection: close, X-Foo\r\n")).head;
    expect([h.keepAlive, h.connectionTokens]).toEqual([false, ["x-foo"]]);
  });

  test("101 is an upgrade", () => {
    const h = res(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    ).head;
    expect([h.status, h.upgrade, responseBodyKind(h, "GET")]).toEqual([101, true, BodyKind.None]);
  });

  test("reset clears a head for reuse", () => {
    const text = ok("Content-Length: 5\r\nConnection: close, x\r\n", "404 Not Found", "1.0");
    const { head } = res(text);
    head.reset();
    const after = [
      head.status,
      head.minor,
      head.fieldCount,
      head.contentLength,
      head.connectionTokens,
    ];
    expect(after).toEqual([0, 1, 0, -1, null]);
  });

  test("OWS around framing and connection values is stripped (RFC 9110 §5.5)", () => {
    for (const te of ["chunked ", "\tchunked\t", " gzip ,\tchunked \t"]) {
      const h = res(ok(`Transfer-Encoding:${te}\r\n`)).head;
      expect([te, h.chunked, h.keepAlive, responseBodyKind(h, "GET")]).toEqual([
        te,
        true,
        true,
        BodyKind.Chunked,
      ]);
    }
    const notLast = res(ok("Transfer-Encoding: chunked\t, gzip \r\n")).head;
    expect([notLast.chunked, notLast.keepAlive, responseBodyKind(notLast, "GET")]).toEqual([
      false,
      false,
      BodyKind.UntilClose,
    ]);
    for (const cl of ["12 ", "\t12", " 12 ,\t12\t"]) {
      const h = res(ok(`Content-Length:${cl}\r\n`)).head;
      expect([cl, h.contentLength, responseBodyKind(h, "GET")]).toEqual([cl, 12, BodyKind.Length]);
    }
    expect(res(ok("Connection: close\t\r\n")).head.keepAlive).toBe(false);
    const old = res(ok("Connection:\t keep-alive \r\n", "200 OK", "1.0")).head;
    expect(old.keepAlive).toBe(true);
    const h = res(ok("Connection: close ,\tX-Foo \r\n")).head;
    expect([h.keepAlive, h.connectionTokens]).toEqual([false, ["x-foo"]]);
  });

  test("Content-Length repeats that agree", () => {
    expect(res(ok("Content-Length: 5, 5\r\nContent-Length: 5\r\n")).head.contentLength).toBe(5);
  });

  test("split at every byte", () => {
    const text =
      "\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive, X\r\nX-A: caf\xe9\r\n\r\n";
    const whole = res(text);
    const buf = enc(text);
    const head = new ResponseHead();
    for (let k = 0; k < buf.length; k++) {
      expect(parseResponseHead(buf, 0, k, new ResponseHead(), DEFAULT_LIMITS)).toBe(NEED_MORE);
      expect(parseResponseHead(buf, 0, k, head, DEFAULT_LIMITS)).toBe(NEED_MORE);
    }
    expect(parseResponseHead(buf, 0, buf.length, head, DEFAULT_LIMITS)).toBe(text.length);
    expect(snapshotResponse(buf, head)).toEqual(snapshotResponse(whole.buf, whole.head));
  });
});

const INVALID: [string, number][] = [
  [ok("Content-Length: 5\r\nContent-Length: 6\r\n"), E_CONTENT_LENGTH_CONFLICT],
  [ok("Content-Length: x\r\n"), E_BAD_CONTENT_LENGTH],
  [ok("Transfer-Encoding: chunked, chunked\r\n"), E_BAD_TRANSFER_ENCODING],
  [ok("Transfer-Encoding: chunked ,\r\n"), E_BAD_TRANSFER_ENCODING],
  [ok("Transfer-Encoding: chunked\x0b\r\n"), E_CONTROL_CHAR],
  [ok("Content-Length: 12\x0c\r\n"), E_CONTROL_CHAR],
  [ok("Content-Length: 12\r \r\n"), E_BARE_CR],
  [ok("Connection: a b\r\n"), E_BAD_CONNECTION],
  [ok("X: a\r\n b\r\n"), E_OBS_FOLD],
  [ok("X: a\0\r\n"), E_CONTROL_CHAR],
  ["HTTP/1.1 200 OK\nContent-Length: 0\n\n", E_BARE_LF],
  ["HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", E_BARE_CR],
  ["HTTP/2 200\r\n\r\n", E_BAD_STATUS_LINE],
  ["HTTP/2.0 200 OK\r\n\r\n", E_UNSUPPORTED_VERSION],
  ["HTTP/1.2 200 OK\r\n\r\n", E_UNSUPPORTED_VERSION],
  ["http/1.1 200 OK\r\n\r\n", E_BAD_STATUS_LINE],
  ["HTTP/1.1 20 OK\r\n\r\n", E_BAD_STATUS_LINE],
  ["HTTP/1.1 2000 OK\r\n\r\n", E_BAD_STATUS_LINE],
  ["HTTP/1.1 200OK\r\n\r\n", E_BAD_STATUS_LINE],
  ["HTTP/1.1  200 OK\r\n\r\n", E_BAD_STATUS_LINE],
  ["HTTP/1.1 600 Nope\r\n\r\n", E_BAD_STATUS_LINE],
  ["HTTP/1.1 099 Nope\r\n\r\n", E_BAD_STATUS_LINE],
  ["HTTP/1.1 200 O\x01K\r\n\r\n", E_BAD_STATUS_LINE],
  ["ICY 200 OK\r\n\r\n", E_BAD_STATUS_LINE],
];

describe("rejected response heads", () => {
  for (const [text, code] of INVALID) {
    test(JSON.stringify(text), () => {
      expect(res(text).r).toBe(code);
    });
  }

  test("limits", () => {
    const limits = { maxRequestLine: 32, maxHeadSize: 128, maxHeaders: 10 };
    expect(res(`HTTP/1.1 200 ${"x".repeat(40)}\r\n\r\n`, limits).r).toBe(E_LINE_TOO_LONG);
    expect(res(`HTTP/1.1 200 OK\r\nX: ${"x".repeat(200)}`, limits).r).toBe(E_HEAD_TOO_LARGE);
  });
});
