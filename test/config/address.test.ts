import { describe, expect, test } from "bun:test";
import { formatAddress, isLoopback, parseAddress } from "../../src/config/address.ts";

describe("parseAddress", () => {
  test.each([
    ["1.2.3.4:80", "1.2.3.4", 80, "1.2.3.4:80"],
    ["[::1]:80", "::1", 80, "[::1]:80"],
    ["[0:0:0:0:0:0:0:1]:8042", "::1", 8042, "[::1]:8042"],
    ["[FE80::A]:1", "fe80::a", 1, "[fe80::a]:1"],
    ["*:80", "::", 80, "*:80"],
    ["[::]:80", "::", 80, "[::]:80"],
    ["localhost:80", "localhost", 80, "localhost:80"],
    ["LocalHost:80", "localhost", 80, "localhost:80"],
    ["lb-1.example.com.:443", "lb-1.example.com", 443, "lb-1.example.com:443"],
    ["127.0.0.1:0", "127.0.0.1", 0, "127.0.0.1:0"],
    ["0.0.0.0:65535", "0.0.0.0", 65535, "0.0.0.0:65535"],
    ["  *:8080  ", "::", 8080, "*:8080"],
  ])("%p", (text, host, port, canonical) => {
    expect(parseAddress(text)).toEqual({ host, port, text: canonical });
  });

  test.each([
    ["1.2.3.4", /"1\.2\.3\.4" is not an address: expected host:port, \[ipv6\]:port or \*:port/],
    ["", /is not an address/],
    ["1.2.3.4:", /has no port/],
    [":80", /has no host/],
    ["1.2.3.4:65536", /port "65536": a port is a number from 0 to 65535/],
    ["1.2.3.4:-1", /a port is a number from 0 to 65535/],
    ["1.2.3.4:http", /a port is a number/],
    ["1.2.3.4:8o", /a port is a number/],
    ["1.2.3.4:1e3", /a port is a number/],
    ["1.2.3.4:123456", /a port is a number/],
    ["::1:80", /write IPv6 addresses in brackets/],
    ["[::1:80", /write IPv6 addresses in brackets/],
    ["[zz]:80", /"zz" is not an IPv6 address/],
    ["[1.2.3.4]:80", /is not an IPv6 address/],
    ["1.2.3.256:80", /"1\.2\.3\.256" is not an IPv4 address/],
    ["1.2.3:80", /is not an IPv4 address/],
    ["a b:80", /"a b" is not an IP address or host name/],
    ["-bad:80", /is not an IP address or host name/],
    ["http://x:80", /"http:\/\/x:80" is not an address: write host:port without a scheme/],
  ])("rejects %p", (text, message) => {
    expect(() => parseAddress(text)).toThrow(message);
  });
});

describe("formatAddress", () => {
  test("brackets IPv6 hosts only", () => {
    expect(formatAddress("::1", 80)).toBe("[::1]:80");
    expect(formatAddress("::", 0)).toBe("[::]:0");
    expect(formatAddress("10.0.0.1", 80)).toBe("10.0.0.1:80");
    expect(formatAddress("localhost", 8042)).toBe("localhost:8042");
  });

  test("round-trips through parseAddress", () => {
    for (const text of ["[::1]:80", "10.1.2.3:9", "example.org:1"]) {
      const { host, port } = parseAddress(text);
      expect(formatAddress(host, port)).toBe(text);
    }
  });
});

describe("isLoopback", () => {
  test.each([
    "127.0.0.1",
    "127.255.0.9",
    "127.0.0.0",
    "::1",
    "[::1]",
    "0:0:0:0:0:0:0:1",
    "::ffff:127.0.0.1",
    "localhost",
    "LOCALHOST",
  ])("%p is loopback", (host) => {
    expect(isLoopback(host)).toBe(true);
  });

  test.each([
    "::",
    "0.0.0.0",
    "128.0.0.1",
    "10.127.0.1",
    "::2",
    "::ffff:10.0.0.1",
    "localhost.example.com",
    "example.com",
    "",
  ])("%p is not loopback", (host) => {
    expect(isLoopback(host)).toBe(false);
  });
});
