import { describe, expect, test } from "bun:test";
import { ChunkedFramer, MAX_CHUNK_LINE, MAX_TRAILER } from "../../src/http/chunked.ts";
import { enc } from "./helpers.ts";

/** Feeds `text` in one piece; returns [consumed, done, error]. */
function whole(text: string): [number, boolean, string] {
  const f = new ChunkedFramer();
  const buf = enc(text);
  const n = f.feed(buf, 0, buf.length);
  return [n, f.done, f.error];
}

/** Feeds one byte at a time; returns bytes consumed before done, or -1. */
function byteAtATime(text: string): number {
  const f = new ChunkedFramer();
  const buf = enc(text);
  let total = 0;
  for (let i = 0; i < buf.length; i++) {
    const n = f.feed(buf, i, i + 1);
    if (n < 0) return -1;
    total += n;
    if (f.done) return total;
  }
  return total;
}

const VALID = [
  "0\r\n\r\n",
  "5\r\nhello\r\n0\r\n\r\n",
  "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
  "A\r\n0123456789\r\na\r\n0123456789\r\n000\r\n\r\n",
  "5;name=value\r\nhello\r\n0;last\r\n\r\n",
  '5;a="quoted \\" value";b=c;d\r\nhello\r\n0\r\n\r\n',
  "5 ;a = b\t;c\r\nhello\r\n0\r\n\r\n",
  "5\r\nhello\r\n0\r\nExpires: never\r\nX-Sum:  abc \r\n\r\n",
  "5\r\nh\r\nlo\r\n0\r\nX-Empty:\r\n\r\n",
  "0000000000000000000005\r\nhello\r\n0\r\n\r\n",
  "5\r\n\xff\xfe\0\r\n\r\n0\r\nX-T: caf\xe9\r\n\r\n",
];

describe("valid chunked bodies", () => {
  for (const body of VALID) {
    test(JSON.stringify(body), () => {
      expect(whole(body)).toEqual([body.length, true, ""]);
      expect(byteAtATime(body)).toBe(body.length);
    });
  }

  test("the next message follows the last chunk", () => {
    const body = "3\r\nabc\r\n0\r\n\r\n";
    const f = new ChunkedFramer();
    const buf = enc(`${body}GET / HTTP/1.1\r\n\r\n`);
    expect(f.feed(buf, 0, buf.length)).toBe(body.length);
    expect(f.done).toBe(true);
    expect(f.feed(buf, body.length, buf.length)).toBe(0);
  });

  test("data split anywhere, offsets honoured", () => {
    const body = "10\r\n0123456789abcdef\r\n3;x=y\r\nxyz\r\n0\r\nT: v\r\n\r\n";
    const buf = enc(`PREFIX${body}NEXT`);
    for (let cut = 6; cut <= 6 + body.length; cut++) {
      const f = new ChunkedFramer();
      const a = f.feed(buf, 6, cut);
      expect(a).toBe(cut - 6);
      const b = f.feed(buf, cut, buf.length);
      expect(a + b).toBe(body.length);
      expect(f.done).toBe(true);
    }
  });

  test("large chunk size up to 2^53 - 1", () => {
    const f = new ChunkedFramer();
    const buf = enc("1fffffffffffff\r\nabc");
    expect(f.feed(buf, 0, buf.length)).toBe(buf.length);
    expect(f.done).toBe(false);
  });

  test("reset starts a new message", () => {
    const f = new ChunkedFramer();
    const buf = enc("0\r\n\r\n");
    f.feed(buf, 0, buf.length);
    f.reset();
    expect(f.done).toBe(false);
    expect(f.feed(buf, 0, buf.length)).toBe(buf.length);
  });
});

const INVALID: [string, string][] = [
  ["empty size", "\r\n"],
  ["bad hex", "g\r\n"],
  ["sign", "-5\r\nhello\r\n0\r\n\r\n"],
  ["0x prefix", "0x5\r\nhello\r\n0\r\n\r\n"],
  ["leading space", " 5\r\nhello\r\n0\r\n\r\n"],
  ["trailing space", "5 \r\nhello\r\n0\r\n\r\n"],
  ["trailing tab", "5\t\r\nhello\r\n0\r\n\r\n"],
  ["overflow", "20000000000000\r\n"],
  ["overflow long", "ffffffffffffffffffff\r\n"],
  ["missing CRLF after data", "5\r\nhelloX\r\n0\r\n\r\n"],
  ["LF only after data", "5\r\nhello\n0\r\n\r\n"],
  ["data longer than size", "3\r\nhello\r\n0\r\n\r\n"],
  ["bare LF after size", "5\nhello\r\n0\r\n\r\n"],
  ["bare CR after size", "5\rhello\r\n0\r\n\r\n"],
  ["bare LF at end", "0\r\n\n"],
  ["bare CR at end", "0\r\n\rX"],
  ["NUL in size line", "5\0\r\nhello\r\n0\r\n\r\n"],
  ["ext without name", "5;\r\nhello\r\n0\r\n\r\n"],
  ["ext bad char", "5;a=\x01\r\nhello\r\n0\r\n\r\n"],
  ["ext name bad char", "5;a(b)\r\nhello\r\n0\r\n\r\n"],
  ["ext empty value", "5;a=\r\nhello\r\n0\r\n\r\n"],
  ["ext space before CR", "5;a \r\nhello\r\n0\r\n\r\n"],
  ["ext unterminated quote", '5;a="b\r\nhello\r\n0\r\n\r\n'],
  ["ext value then junk", '5;a="b"c\r\nhello\r\n0\r\n\r\n'],
  ["trailer obs-fold", "0\r\nA: b\r\n c\r\n\r\n"],
  ["trailer space before colon", "0\r\nA : b\r\n\r\n"],
  ["trailer no colon", "0\r\nAB\r\n\r\n"],
  ["trailer empty name", "0\r\n: b\r\n\r\n"],
  ["trailer control char", "0\r\nA: b\x01\r\n\r\n"],
  ["trailer bare LF", "0\r\nA: b\n\r\n"],
];

describe("framing errors", () => {
  for (const [name, body] of INVALID) {
    test(name, () => {
      const [n, done, error] = whole(body);
      expect(n).toBe(-1);
      expect(done).toBe(false);
      expect(error).not.toBe("");
      expect(byteAtATime(body)).toBe(-1);
    });
  }

  test("errors are sticky", () => {
    const f = new ChunkedFramer();
    expect(f.feed(enc("x"), 0, 1)).toBe(-1);
    expect(f.feed(enc("0\r\n\r\n"), 0, 5)).toBe(-1);
  });

  test("oversize chunk-size line", () => {
    const ext = `;${"a".repeat(MAX_CHUNK_LINE)}`;
    expect(whole(`5${ext}\r\nhello\r\n0\r\n\r\n`)[0]).toBe(-1);
    const fits = `;${"a".repeat(MAX_CHUNK_LINE - 4)}`;
    expect(whole(`5${fits}\r\nhello\r\n0\r\n\r\n`)[1]).toBe(true);
  });

  test("oversize trailer section", () => {
    const big = `0\r\nX: ${"v".repeat(MAX_TRAILER)}\r\n\r\n`;
    expect(whole(big)[0]).toBe(-1);
    const many = `0\r\n${"X: v\r\n".repeat(Math.ceil(MAX_TRAILER / 6))}\r\n`;
    expect(whole(many)[0]).toBe(-1);
    const fits = `0\r\nX: ${"v".repeat(MAX_TRAILER - 10)}\r\n\r\n`;
    expect(whole(fits)[1]).toBe(true);
  });
});
