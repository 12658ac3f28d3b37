/** `hash_key`: what the hash policy hashes, read from the request head. */
import { expect, test } from "bun:test";
import { hashKeyReader } from "../../src/balance/hash-key.ts";
import { FakeExchange } from "../support/fake-exchange.ts";

/** A request with these header lines (and a Host). */
function request(...lines: string[]): FakeExchange {
  return new FakeExchange(
    `GET / HTTP/1.1\r\nHost: a.test\r\n${lines.map((l) => `${l}\r\n`).join("")}\r\n`,
  );
}

const CLIENT = "192.0.2.7";

test("client_ip: the client's address", () => {
  const exchange = request("X-User: alice");
  expect(exchange.clientAddress).toBe(CLIENT);
  expect(hashKeyReader("client_ip")(exchange)).toBe(CLIENT);
  exchange.clientAddress = "2001:db8::1";
  expect(hashKeyReader("client_ip")(exchange)).toBe("2001:db8::1");
});

test("header:<name>: the header's value, the name in any case", () => {
  const read = hashKeyReader("header:X-User");
  expect(read(request("X-User: alice"))).toBe("alice");
  expect(read(request("x-user: bob"))).toBe("bob");
  expect(read(request("X-USER:carol  "))).toBe("carol");
  expect(hashKeyReader("header:x-USER")(request("X-User: dave"))).toBe("dave");
  expect(hashKeyReader("header:host")(request())).toBe("a.test");
});

test("header:<name>: the first of several", () => {
  const read = hashKeyReader("header:X-User");
  expect(read(request("X-Other: 1", "X-User: first", "X-User: second"))).toBe("first");
});

test("header:<name>: names that are tokens, not only letters and '-'", () => {
  expect(hashKeyReader("header:X_Tenant.ID")(request("x_tenant.id: t1"))).toBe("t1");
  // '_' is not a letter: it does not match '-' or anything else by case folding.
  expect(hashKeyReader("header:X_Tenant")(request("X-Tenant: t2"))).toBe(CLIENT);
  expect(hashKeyReader("header:X~a")(request("X^a: t3"))).toBe(CLIENT);
});

test("header:<name>: without it, or with it empty, the client's address", () => {
  const read = hashKeyReader("header:X-User");
  expect(read(request())).toBe(CLIENT);
  expect(read(request("X-Users: alice", "X-Use: bob"))).toBe(CLIENT);
  expect(read(request("X-User:"))).toBe(CLIENT);
  expect(read(request("X-User:   "))).toBe(CLIENT);
});

test("cookie:<name>: the cookie's value, among others", () => {
  const read = hashKeyReader("cookie:session");
  expect(read(request("Cookie: session=abc"))).toBe("abc");
  expect(read(request("Cookie: a=1; session=abc; b=2"))).toBe("abc");
  expect(read(request("cookie: a=1;session=xyz"))).toBe("xyz");
  expect(read(request("Cookie: a=1; session=last"))).toBe("last");
  expect(read(request('Cookie: session="quoted"'))).toBe('"quoted"');
  expect(read(request("Cookie: session=a=b"))).toBe("a=b");
});

test("cookie:<name>: the name exactly, not a prefix or another case", () => {
  const read = hashKeyReader("cookie:session");
  expect(read(request("Cookie: sessionid=1; session=2"))).toBe("2");
  expect(read(request("Cookie: xsession=1; session=2"))).toBe("2");
  expect(read(request("Cookie: Session=1"))).toBe(CLIENT);
  expect(read(request("Cookie: flag; session=3"))).toBe("3");
  expect(read(request("Cookie: session"))).toBe(CLIENT);
});

test("cookie:<name>: in any of several Cookie headers", () => {
  const read = hashKeyReader("cookie:session");
  expect(read(request("Cookie: a=1", "X-Other: session=no", "Cookie: session=two"))).toBe("two");
  expect(read(request("Cookie: session=one", "Cookie: session=two"))).toBe("one");
});

test("cookie:<name>: without it, or with it empty, the client's address", () => {
  const read = hashKeyReader("cookie:session");
  expect(read(request())).toBe(CLIENT);
  expect(read(request("Cookie: a=1; b=2"))).toBe(CLIENT);
  expect(read(request("Cookie: session=; a=1"))).toBe(CLIENT);
  expect(read(request("Cookie: session=;session=later"))).toBe("later");
  expect(read(request("Cookie:"))).toBe(CLIENT);
  expect(read(request("X-Cookie: session=abc"))).toBe(CLIENT);
});

test("an unknown hash_key is refused when the rule is made", () => {
  expect(() => hashKeyReader("query:id")).toThrow(/hash_key/);
});
