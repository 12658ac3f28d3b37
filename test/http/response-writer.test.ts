import { describe, expect, test } from "bun:test";
import { DEFAULT_LIMITS } from "../../src/http/limits.ts";
import { parseResponseHead, ResponseHead } from "../../src/http/response-head.ts";
import { parseHttpFile, reasonPhrase, simpleResponse } from "../../src/http/response-writer.ts";

const text = (b: Buffer) => b.toString("latin1");

describe("simpleResponse", () => {
  test("status line, headers, Content-Length, Connection, body", () => {
    const out = simpleResponse(200, [["Content-Type", "text/plain"]], "héllo", true);
    expect(text(out)).toBe(
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: keep-alive\r\n\r\nh\xc3\xa9llo",
    );
  });

  test("closing, bytes body", () => {
    const out = simpleResponse(404, [], new Uint8Array([1, 2, 3]), false);
    expect(text(out)).toBe(
      "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nConnection: close\r\n\r\n\x01\x02\x03",
    );
  });

  test("HEAD: no body, same Content-Length", () => {
    const out = simpleResponse(200, [], "hello", true, true);
    expect(text(out)).toBe(
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\n",
    );
  });

  test("our own framing headers replace the caller's", () => {
    const out = simpleResponse(
      302,
      [
        ["Location", "/x"],
        ["content-length", "99"],
        ["Connection", "upgrade"],
        ["Transfer-Encoding", "chunked"],
      ],
      "",
      false,
    );
    expect(text(out)).toBe(
      "HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
  });

  test("204 and 304 carry no body nor Content-Length", () => {
    expect(text(simpleResponse(204, [], "ignored", true))).toBe(
      "HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n",
    );
    expect(text(simpleResponse(304, [["ETag", '"x"']], "", true))).toBe(
      'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\nConnection: keep-alive\r\n\r\n',
    );
  });

  test("refuses header injection and bad status", () => {
    expect(() => simpleResponse(200, [["X", "a\r\nSet-Cookie: x"]], "", true)).toThrow();
    expect(() => simpleResponse(200, [["X\r\nY", "a"]], "", true)).toThrow();
    expect(() => simpleResponse(200, [["", "a"]], "", true)).toThrow();
    expect(() => simpleResponse(42, [], "", true)).toThrow();
  });

  test("output parses back", () => {
    const out = simpleResponse(503, [["Retry-After", "5"]], "busy", false);
    const head = new ResponseHead();
    const r = parseResponseHead(out, 0, out.length, head, DEFAULT_LIMITS);
    expect(r).toBe(out.length - 4);
    expect([head.status, head.contentLength, head.keepAlive]).toEqual([503, 4, false]);
  });
});

describe("reasonPhrase", () => {
  test("standard table", () => {
    expect(reasonPhrase(200)).toBe("OK");
    expect(reasonPhrase(301)).toBe("Moved Permanently");
    expect(reasonPhrase(413)).toBe("Content Too Large");
    expect(reasonPhrase(431)).toBe("Request Header Fields Too Large");
    expect(reasonPhrase(505)).toBe("HTTP Version Not Supported");
    expect(reasonPhrase(299)).toBe("");
  });
});

describe("parseHttpFile", () => {
  test("LF file", () => {
    const f = parseHttpFile(
      "HTTP/1.1 404 Not Found\nContent-Type: text/html\nContent-Length: 3\n\n<p>x</p>\n",
    );
    expect(f).toEqual({
      status: 404,
      headers: [["Content-Type", "text/html"]],
      body: "<p>x</p>\n",
    });
  });

  test("CRLF file, body kept verbatim with its blank lines", () => {
    const f = parseHttpFile(
      "\ufeffHTTP/1.0 200\r\nX-A:  b \r\nConnection: close\r\n\r\nline1\r\n\r\nline3",
    );
    expect(f).toEqual({ status: 200, headers: [["X-A", "b"]], body: "line1\r\n\r\nline3" });
  });

  test("no blank line: no body", () => {
    expect(parseHttpFile("HTTP/1.1 204 No Content\nX: y")).toEqual({
      status: 204,
      headers: [["X", "y"]],
      body: "",
    });
    expect(parseHttpFile("HTTP/1.1 204 No Content\n")).toEqual({
      status: 204,
      headers: [],
      body: "",
    });
  });

  test("malformed files", () => {
    expect(() => parseHttpFile("")).toThrow(/empty/);
    expect(() => parseHttpFile("200 OK\n\n")).toThrow(/line 1/);
    expect(() => parseHttpFile("HTTP/1.1 2000 OK\n\n")).toThrow(/line 1/);
    expect(() => parseHttpFile("HTTP/2 200 OK\n\n")).toThrow(/line 1/);
    expect(() => parseHttpFile("HTTP/1.1 200 OK\nNoColon\n\n")).toThrow(/line 2.*":"/);
    expect(() => parseHttpFile("HTTP/1.1 200 OK\nX: a\nBad Name: b\n\n")).toThrow(
      /line 3.*header name/,
    );
    expect(() => parseHttpFile("HTTP/1.1 200 OK\nX: a\x01\n\n")).toThrow(/control/);
  });
});
