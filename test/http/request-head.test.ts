import { describe, expect, test } from "bun:test";
import { DEFAULT_LIMITS } from "../../src/http/limits.ts";
import {
  E_TE_NOT_CHUNKED,
  fieldName,
  fieldValue,
  H_CONNECTION,
  H_CONTENT_LENGTH,
  H_HOST,
  H_OTHER,
  H_TRANSFER_ENCODING,
  H_UPGRADE,
  H_X_FORWARDED_FOR,
  NEED_MORE,
  parseRequestHead,
  RequestHead,
} from "../../src/http/request-head.ts";
import { enc, req } from "./helpers.ts";

describe("valid request heads", () => {
  test("GET with Host", () => {
    const text = "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";
    const { r, head, buf } = req(text);
    expect(r).toBe(text.length);
    expect(head.headLength).toBe(text.length);
    expect(head.method).toBe("GET");
    expect(head.target(buf)).toBe("/index.html?q=1");
    expect(buf.toString("latin1", head.targetStart, head.targetEnd)).toBe("/index.html?q=1");
    expect(head.minor).toBe(1);
    expect(head.host).toBe("example.com");
    expect(head.keepAlive).toBe(true);
    expect(head.contentLength).toBe(-1);
    expect(head.chunked).toBe(false);
    expect(head.connectionTokens).toBeNull();
    expect(head.xForwarded).toBeNull();
    expect(head.fieldCount).toBe(2);
    expect(Array.from(head.kinds.subarray(0, 2))).toEqual([H_HOST, H_OTHER]);
  });

  test("field offsets", () => {
    const text = "GET / HTTP/1.1\r\nHost:  a.b \t\r\nX-Empty:\r\n\r\n";
    const { head } = req(text);
    const f = head.fields;
    expect([f[0], f[1], f[2], f[3], head.lineEnds[0]]).toEqual([16, 20, 23, 26, 30]);
    expect(text.slice(f[0], f[1])).toBe("Host");
    expect(text.slice(f[4], f[5])).toBe("X-Empty");
    expect(f[6]).toBe(f[7]);
    expect(head.lineEnds[1]).toBe(text.length - 2);
  });

  test("HTTP/1.0 without Host", () => {
    const { r, head } = req("GET / HTTP/1.0\r\n\r\n");
    expect(r).toBeGreaterThan(0);
    expect(head.minor).toBe(0);
    expect(head.host).toBeNull();
    expect(head.keepAlive).toBe(false);
  });

  test("HTTP/1.0 keep-alive only when asked", () => {
    expect(req("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").head.keepAlive).toBe(true);
    expect(req("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").head.keepAlive).toBe(
      false,
    );
    expect(req("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").head.keepAlive).toBe(
      false,
    );
  });

  test("OWS around values is trimmed, inner white space kept", () => {
    const { head, buf } = req(
      "GET / HTTP/1.1\r\nHost:\t example.com \t\r\nX-A:  one  two \r\n\r\n",
    );
    expect(head.host).toBe("example.com");
    expect(fieldValue(buf, head, 1)).toBe("one  two");
    expect(fieldName(buf, head, 1)).toBe("X-A");
  });

  test("OWS around framing and connection values is stripped (RFC 9110 §5.5)", () => {
    const post = (fields: string) => req(`POST / HTTP/1.1\r\nHost: a\r\n${fields}\r\n`);
    for (const te of [
      "chunked ",
      "chunked\t",
      "\tchunked",
      " \t chunked \t ",
      "gzip , chunked",
      "gzip\t,\tchunked\t",
      " deflate \t,  gzip ,chunked ",
    ]) {
      const { r, head } = post(`Transfer-Encoding:${te}\r\n`);
      expect([te, r > 0, head.chunked, head.contentLength]).toEqual([te, true, true, -1]);
    }
    const lines = post("Transfer-Encoding: gzip \t\r\nTransfer-Encoding:\tchunked \r\n");
    expect([lines.r > 0, lines.head.chunked]).toEqual([true, true]);
    // Stripping OWS does not hide a coding after chunked.
    expect(post("Transfer-Encoding: chunked ,\tgzip \r\n").r).toBe(E_TE_NOT_CHUNKED);
    for (const cl of ["5 ", "\t5", " \t5\t ", "5 ,\t5 ", "5\t, 5"]) {
      const { r, head } = post(`Content-Length:${cl}\r\n`);
      expect([cl, r > 0, head.contentLength]).toEqual([cl, true, 5]);
    }
    const get = (version: string, fields: string) =>
      req(`GET / HTTP/1.${version}\r\n${fields}\r\n`).head;
    expect(get("1", "Host: a\r\nConnection: close \t\r\n").keepAlive).toBe(false);
    expect(get("0", "Connection:\tkeep-alive \r\n").keepAlive).toBe(true);
    const upgrade = get(
      "1",
      "Host: a\r\nConnection:\t Upgrade ,\tx-hop\t\r\nUpgrade: websocket \r\n",
    );
    expect([upgrade.upgrade, upgrade.connectionTokens]).toEqual([true, ["x-hop"]]);
    expect(get("1", "Host:\ta.test:8080 \t\r\n").host).toBe("a.test:8080");
    expect(get("1", "Host:  [::1]:80\t\r\n").host).toBe("[::1]:80");
    expect(get("1", "Host: a\r\nExpect: 100-continue \r\n").expectContinue).toBe(true);
    expect(get("1", "Host: a\r\nExpect:\t100-Continue\t\r\n").expectContinue).toBe(true);
    expect(get("1", "Host: a\r\nX-Forwarded-Proto: https\t\r\n").xForwarded).toBe("https");
    expect(get("1", "Host: a\r\nX-Forwarded-Protocol:\t Wss \r\n").xForwarded).toBe("wss");
  });

  test("CONNECT without Content-Length or Transfer-Encoding parses", () => {
    const text =
      "CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\nProxy-Authorization: x\r\n\r\n";
    const { r, head } = req(text);
    expect([r, head.method, head.contentLength, head.chunked]).toEqual([
      text.length,
      "CONNECT",
      -1,
      false,
    ]);
    // The rule is CONNECT's alone: the same fields on other methods frame a body.
    for (const m of ["GET", "OPTIONS", "PROPFIND"]) {
      const p = req(`${m} / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n`);
      expect([m, p.r > 0, p.head.contentLength]).toEqual([m, true, 0]);
    }
  });

  test("obs-text allowed in values", () => {
    const { r, head, buf } = req("GET / HTTP/1.1\r\nHost: a\r\nX-T: caf\xe9\xff\r\n\r\n");
    expect(r).toBeGreaterThan(0);
    expect(fieldValue(buf, head, 1)).toBe("caf\xe9\xff");
  });

  test("absolute-form, asterisk-form, authority-form", () => {
    let p = req("GET http://Example.com:8080/a?b HTTP/1.1\r\nHost: example.com:8080\r\n\r\n");
    expect(p.r).toBeGreaterThan(0);
    expect(p.head.target(p.buf)).toBe("http://Example.com:8080/a?b");
    expect(req("GET HTTPS://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n").r).toBeGreaterThan(
      0,
    );
    expect(req("GET http://[::1]:80?x HTTP/1.1\r\nHost: [::1]:80\r\n\r\n").r).toBeGreaterThan(0);
    p = req("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
    expect([p.r > 0, p.head.method, p.head.target(p.buf)]).toEqual([true, "OPTIONS", "*"]);
    p = req("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    expect([p.r > 0, p.head.method, p.head.target(p.buf)]).toEqual([
      true,
      "CONNECT",
      "example.com:443",
    ]);
  });

  test("standard methods are interned, others decoded", () => {
    for (const m of ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"]) {
      const { r, head } = req(`${m} / HTTP/1.1\r\nHost: a\r\n\r\n`);
      expect(r).toBeGreaterThan(0);
      expect(head.method).toBe(m);
    }
    const { head } = req("PROPFIND /x HTTP/1.1\r\nHost: a\r\n\r\n");
    expect(head.method).toBe("PROPFIND");
    expect(head.methodId).toBe(0);
    expect(req("get / HTTP/1.1\r\nHost: a\r\n\r\n").head.method).toBe("get");
  });

  test("pipelined requests parse one after another via start", () => {
    const a = "GET /a HTTP/1.1\r\nHost: one\r\n\r\n";
    const b = "POST /b HTTP/1.1\r\nHost: two\r\nContent-Length: 3\r\n\r\n";
    const buf = enc(`${a}${b}abc`);
    const head = new RequestHead();
    const r1 = parseRequestHead(buf, 0, buf.length, head, DEFAULT_LIMITS);
    expect(r1).toBe(a.length);
    expect([head.method, head.target(buf), head.host]).toEqual(["GET", "/a", "one"]);
    const r2 = parseRequestHead(buf, r1, buf.length, head, DEFAULT_LIMITS);
    expect(r2).toBe(b.length);
    expect([head.method, head.target(buf), head.host, head.contentLength]).toEqual([
      "POST",
      "/b",
      "two",
      3,
    ]);
    expect(head.fields[0]).toBe(a.length + 18);
  });

  test("leading empty lines are skipped", () => {
    const text = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
    const { r, head, buf } = req(text);
    expect(r).toBe(text.length);
    expect(head.targetStart).toBe(8);
    expect(head.target(buf)).toBe("/");
  });

  test("Content-Length forms", () => {
    expect(req("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\n\r\n").head.contentLength).toBe(
      42,
    );
    expect(
      req("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n").head.contentLength,
    ).toBe(5);
    expect(
      req("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\ncontent-length: 7\r\n\r\n").head
        .contentLength,
    ).toBe(7);
    expect(
      req("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 007\r\n\r\n").head.contentLength,
    ).toBe(7);
    const max = req("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9007199254740991\r\n\r\n");
    expect(max.head.contentLength).toBe(9007199254740991);
  });

  test("Transfer-Encoding chunked", () => {
    for (const te of [
      "chunked",
      "Chunked",
      "gzip, chunked",
      "gzip,chunked",
      "deflate ,  chunked",
    ]) {
      const { r, head } = req(`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ${te}\r\n\r\n`);
      expect([te, r > 0, head.chunked]).toEqual([te, true, true]);
    }
    const two = req(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    expect(two.head.chunked).toBe(true);
    expect(Array.from(two.head.kinds.subarray(1, 3))).toEqual([
      H_TRANSFER_ENCODING,
      H_TRANSFER_ENCODING,
    ]);
  });

  test("Connection tokens, Upgrade, Expect, X-Forwarded", () => {
    const { head } = req(
      "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, X-Hop ,,Keep-Alive\r\nUpgrade: websocket\r\n" +
        "Expect: 100-Continue\r\nX-Forwarded-For: 1.2.3.4\r\nX-Forwarded-Protocol: HTTP\r\n" +
        "X-Forwarded-Proto: HTTPS\r\n\r\n",
    );
    expect(head.upgrade).toBe(true);
    expect(head.connectionTokens).toEqual(["x-hop"]);
    expect(head.expectContinue).toBe(true);
    expect(head.xForwarded).toBe("https");
    expect(head.kinds[1]).toBe(H_CONNECTION);
    expect(head.kinds[2]).toBe(H_UPGRADE);
    expect(head.kinds[4]).toBe(H_X_FORWARDED_FOR);
    const only = req(
      "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nX-Forwarded-Protocol: Wss\r\n\r\n",
    );
    expect(only.head.upgrade).toBe(false);
    expect(only.head.xForwarded).toBe("wss");
    expect(req("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n").head.upgrade).toBe(
      false,
    );
    const old = req("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n").head;
    expect(old.expectContinue).toBe(false);
  });

  test("Host shapes", () => {
    for (const host of [
      "",
      "a",
      "example.com:8080",
      "[::1]",
      "[2001:db8::1]:443",
      "127.0.0.1:80",
      "xn--bcher-kva.ch",
    ]) {
      const { r, head } = req(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      expect([host, r > 0, head.host]).toEqual([host, true, host]);
    }
  });

  test("the same Host string is reused across requests", () => {
    const head = new RequestHead();
    const a = enc("GET / HTTP/1.1\r\nHost: reuse.example.com\r\n\r\n");
    parseRequestHead(a, 0, a.length, head, DEFAULT_LIMITS);
    const first = head.host;
    parseRequestHead(a, 0, a.length, head, DEFAULT_LIMITS);
    expect(head.host).toBe(first!);
  });

  test("many fields grow the arrays", () => {
    let text = "GET / HTTP/1.1\r\nHost: a\r\n";
    for (let i = 0; i < 99; i++) text += `X-${i}: ${i}\r\n`;
    const { r, head, buf } = req(`${text}\r\n`);
    expect(r).toBeGreaterThan(0);
    expect(head.fieldCount).toBe(100);
    expect(fieldValue(buf, head, 99)).toBe("98");
    expect(head.kinds[0]).toBe(H_HOST);
  });

  test("kinds match case-insensitively", () => {
    const { head } = req("POST / HTTP/1.1\r\nhOsT: a\r\nCONTENT-LENGTH: 1\r\n\r\n");
    expect(Array.from(head.kinds.subarray(0, 2))).toEqual([H_HOST, H_CONTENT_LENGTH]);
  });

  test("incomplete heads ask for more", () => {
    for (const text of [
      "",
      "G",
      "GET / HTTP/1.1",
      "GET / HTTP/1.1\r",
      "GET / HTTP/1.1\r\nHost: a\r\n\r",
      "\r\n",
    ]) {
      expect(req(text).r).toBe(NEED_MORE);
    }
  });

  test("reset clears a head for reuse", () => {
    const { head } = req(
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nConnection: x\r\n\r\n",
    );
    head.reset();
    expect([head.fieldCount, head.contentLength, head.host, head.connectionTokens]).toEqual([
      0,
      -1,
      null,
      null,
    ]);
  });
});
