import { describe, expect, test } from "bun:test";
import { DEFAULT_LIMITS } from "../../src/http/limits.ts";
import {
  E_BARE_LF,
  E_HEAD_TOO_LARGE,
  E_LINE_TOO_LONG,
  E_TOO_MANY_FIELDS,
  NEED_MORE,
  parseRequestHead,
  RequestHead,
} from "../../src/http/request-head.ts";
import { enc, req, snapshotRequest } from "./helpers.ts";

const REQUESTS = [
  "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
  "GET / HTTP/1.0\r\n\r\n",
  "\r\n\r\nGET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
  "POST /upload?x=1 HTTP/1.1\r\nHost: example.com:8080\r\nContent-Length: 5, 5\r\nX-A:  b \r\n\r\n",
  "PUT http://example.com/a HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: gzip, chunked\r\n" +
    "Connection: keep-alive, X-Hop\r\nX-Forwarded-Proto: HTTPS\r\nExpect: 100-continue\r\n\r\n",
  "OPTIONS * HTTP/1.1\r\nHost: a\r\nX-E:\r\nX-T: caf\xe9\r\n\r\n",
  "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
  "GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
];

describe("split at every byte", () => {
  for (const text of REQUESTS) {
    test(JSON.stringify(text.slice(0, 40)), () => {
      const whole = req(text);
      expect(whole.r).toBe(text.length);
      const expected = snapshotRequest(whole.buf, whole.head);
      const buf = enc(text);
      // A fresh head for every prefix: no prefix is an error.
      for (let k = 0; k < buf.length; k++) {
        expect(parseRequestHead(buf, 0, k, new RequestHead(), DEFAULT_LIMITS)).toBe(NEED_MORE);
      }
      // One head fed growing prefixes, as a connection would.
      const head = new RequestHead();
      for (let k = 0; k < buf.length; k++) {
        expect(parseRequestHead(buf, 0, k, head, DEFAULT_LIMITS)).toBe(NEED_MORE);
      }
      expect(parseRequestHead(buf, 0, buf.length, head, DEFAULT_LIMITS)).toBe(text.length);
      expect(snapshotRequest(buf, head)).toEqual(expected);
    });
  }

  test("growing prefixes at a non-zero start, then the next request", () => {
    const a = REQUESTS[3]!;
    const b = REQUESTS[4]!;
    const buf = enc(`junk${a}${b}`);
    const head = new RequestHead();
    for (let k = 4; k < 4 + a.length; k++) {
      expect(parseRequestHead(buf, 4, k, head, DEFAULT_LIMITS)).toBe(NEED_MORE);
    }
    expect(parseRequestHead(buf, 4, buf.length, head, DEFAULT_LIMITS)).toBe(a.length);
    const start = 4 + a.length;
    for (let k = start; k < buf.length; k++) {
      expect(parseRequestHead(buf, start, k, head, DEFAULT_LIMITS)).toBe(NEED_MORE);
    }
    expect(parseRequestHead(buf, start, buf.length, head, DEFAULT_LIMITS)).toBe(b.length);
    expect(head.host).toBe("example.com");
  });

  test("a head arriving in pieces is searched only once", () => {
    const head = new RequestHead();
    const buf = enc(`GET / HTTP/1.1\r\nHost: a\r\nX-Long: ${"x".repeat(4000)}\r\n\r\n`);
    expect(parseRequestHead(buf, 0, 10, head, DEFAULT_LIMITS)).toBe(NEED_MORE);
    for (let k = 11; k < buf.length; k++) {
      expect(parseRequestHead(buf, 0, k, head, DEFAULT_LIMITS)).toBe(NEED_MORE);
      expect(head.scanPos).toBe(k);
    }
    expect(parseRequestHead(buf, 0, buf.length, head, DEFAULT_LIMITS)).toBe(buf.length);
  });
});

describe("limits and errors while trickling", () => {
  function trickle(text: string, limits = DEFAULT_LIMITS): [number, number] {
    const buf = enc(text);
    const head = new RequestHead();
    for (let k = 1; k <= buf.length; k++) {
      const r = parseRequestHead(buf, 0, k, head, limits);
      if (r !== NEED_MORE) return [r, k];
    }
    return [NEED_MORE, buf.length];
  }

  test("oversized head", () => {
    const limits = { maxRequestLine: 64, maxHeadSize: 256, maxHeaders: 100 };
    const [r, at] = trickle(`GET / HTTP/1.1\r\nHost: a\r\nX: ${"v".repeat(1000)}\r\n\r\n`, limits);
    expect([r, at]).toEqual([E_HEAD_TOO_LARGE, 257]);
  });

  test("long request line", () => {
    const limits = { maxRequestLine: 64, maxHeadSize: 256, maxHeaders: 100 };
    const [r, at] = trickle(`GET /${"a".repeat(100)} HTTP/1.1\r\n\r\n`, limits);
    expect([r, at]).toEqual([E_LINE_TOO_LONG, 65]);
  });

  test("too many fields", () => {
    const limits = { maxRequestLine: 64, maxHeadSize: 4096, maxHeaders: 3 };
    const [r] = trickle(`GET / HTTP/1.1\r\n${"X: y\r\n".repeat(10)}\r\n`, limits);
    expect(r).toBe(E_TOO_MANY_FIELDS);
  });

  test("an error found once the head completes", () => {
    expect(trickle("GET / HTTP/1.1\r\nHost: a\r\n\n")[0]).toBe(E_BARE_LF);
    expect(trickle("GET / HTTP/1.1\r\nX: a\nHost: a\r\n\r\n")[0]).toBe(E_BARE_LF);
  });
});
