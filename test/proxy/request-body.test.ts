/** The request body under way: framing, who takes it, dropping. */
import { expect, test } from "bun:test";
import { BROKEN, RequestBody } from "../../src/proxy/request-body.ts";
import { req } from "../http/helpers.ts";

const bytes = (text: string) => Buffer.from(text, "latin1");

function bodyOf(head: string): RequestBody {
  const body = new RequestBody();
  body.start(req(head).head);
  return body;
}

test("a length-framed body goes to the sink up to its end, not beyond", () => {
  const body = bodyOf("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n");
  const got: string[] = [];
  body.streamTo((part, last) => {
    got.push(`${part.toString("latin1")}${last ? "|" : ""}`);
    return true;
  });
  expect(body.flowing).toBe(true);
  expect(body.feed(bytes("abc"))).toBe(3);
  expect(body.seen).toBe(true);
  expect(body.feed(bytes("deGET /"))).toBe(2);
  expect(body.done).toBe(true);
  expect(got).toEqual(["abc", "de|"]);
});

test("a sink that is full stops the flow until resumed", () => {
  const body = bodyOf("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\n");
  body.streamTo(() => false);
  body.feed(bytes("abc"));
  expect(body.flowing).toBe(false);
  body.resume();
  expect(body.flowing).toBe(true);
});

test("no sink yet: nothing flows", () => {
  const body = bodyOf("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\n");
  expect(body.flowing).toBe(false);
  expect(body.seen).toBe(false);
});

test("dropped bytes are counted", () => {
  const body = bodyOf("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
  body.dropRest();
  expect(body.dropping).toBe(true);
  body.feed(bytes("5\r\nhello\r\n"));
  expect(body.dropped).toBe(10);
  expect(body.done).toBe(false);
  body.feed(bytes("0\r\n\r\n"));
  expect(body.done).toBe(true);
});

test("broken chunked framing is reported", () => {
  const body = bodyOf("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
  body.streamTo(() => true);
  expect(body.feed(bytes("zz\r\n"))).toBe(BROKEN);
});

test("takeWhole: all of a small length-framed body at hand, or nothing", () => {
  const body = bodyOf("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n");
  expect(body.takeWhole(bytes("abc"), 100)).toBe(0);
  expect(body.takeWhole(bytes("abcdXY"), 3)).toBe(0);
  expect(body.takeWhole(bytes("abcdXY"), 100)).toBe(4);
  expect(body.done).toBe(true);
  const chunked = bodyOf("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
  expect(chunked.takeWhole(bytes("0\r\n\r\n"), 100)).toBe(0);
});

test("no Content-Length and not chunked: no body at all", () => {
  expect(bodyOf("POST / HTTP/1.1\r\nHost: a\r\n\r\n").done).toBe(true);
});
