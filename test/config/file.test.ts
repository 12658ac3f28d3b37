import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../src/config/config.ts";
import { KEY_NAMES, parseConfigText } from "../../src/config/file.ts";

const PATH = "/srv/mantrid.conf";
const dir = mkdtempSync(join(tmpdir(), "mantrid-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const passwdFile = join(dir, "passwd");
const groupFile = join(dir, "group");
writeFileSync(passwdFile, "root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33::/var/www:/bin/false\n");
writeFileSync(groupFile, "root:x:0:\nwww-data:x:33:\nmantrid:x:1001:alice,bob\n");
const accounts = { passwdFile, groupFile };

function parse(text: string) {
  return parseConfigText(text, PATH, accounts);
}

function failure(text: string): string {
  try {
    parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("parseConfigText", () => {
  test("an empty file sets nothing", () => {
    expect(parse("")).toEqual({});
    expect(parse("\n\n   \n")).toEqual({});
  });

  test("every key", () => {
    const settings = parse(`
bind = *:80
bind_internal = 127.0.0.1:8081
bind_management = [::1]:8042
state_file = /var/lib/mantrid/other.json
static_dir = /srv/static
uid = 33
gid = 33
connect_timeout = 2.5
backend_timeout = 30
idle_timeout = 0.5
head_timeout = 7
shutdown_grace = 0
max_connections = 500
max_spinning = 20
max_request_line = 4096
max_head_size = 65536
max_headers = 50
workers = 4
management_token = s3cr=t#x
debug = true
access_log = /var/log/mantrid/access.log
`);
    expect(settings).toEqual({
      bind: [{ host: "::", port: 80, text: "*:80" }],
      bindInternal: [{ host: "127.0.0.1", port: 8081, text: "127.0.0.1:8081" }],
      bindManagement: [{ host: "::1", port: 8042, text: "[::1]:8042" }],
      stateFile: "/var/lib/mantrid/other.json",
      staticDir: "/srv/static",
      uid: 33,
      gid: 33,
      connectTimeout: 2.5,
      backendTimeout: 30,
      idleTimeout: 0.5,
      headTimeout: 7,
      shutdownGrace: 0,
      maxConnections: 500,
      maxSpinning: 20,
      maxRequestLine: 4096,
      maxHeadSize: 65536,
      maxHeaders: 50,
      workers: 4,
      managementToken: "s3cr=t#x",
      debug: true,
      accessLog: "/var/log/mantrid/access.log",
    });
  });

  test("the key list is complete and in the unknown-key message", () => {
    expect([...KEY_NAMES].sort()).toEqual(
      [
        "access_log",
        "backend_timeout",
        "bind",
        "bind_internal",
        "bind_management",
        "connect_timeout",
        "debug",
        "gid",
        "head_timeout",
        "idle_timeout",
        "body_timeout",
        "send_timeout",
        "linger_timeout",
        "management_token",
        "max_connections",
        "max_spinning",
        "max_request_line",
        "max_head_size",
        "max_headers",
        "shutdown_grace",
        "state_file",
        "static_dir",
        "uid",
        "workers",
        "metrics",
        "bind_tls",
        "tls_default",
        "tls_min_version",
        "tls_ciphers",
        "cert_dir",
        "acme_directory",
        "acme_email",
        "acme_ca_root",
        "acme_renew_before",
        "acme_challenge",
        "store",
        "etcd_endpoints",
        "etcd_prefix",
        "etcd_ca",
        "etcd_cert",
        "etcd_key",
        "etcd_username",
        "etcd_password",
      ].sort(),
    );
    expect(failure("bnd = *:80")).toBe(
      `${PATH}:1: unknown key "bnd" (known: ${KEY_NAMES.join(", ")})`,
    );
  });

  test("comments, blank lines, white space and CRLF", () => {
    const text = "\uFEFF# Mantrid\r\n\r\n  # indented comment\r\n\t bind\t=\t127.0.0.1:80  \r\n";
    expect(parse(text)).toEqual({ bind: [{ host: "127.0.0.1", port: 80, text: "127.0.0.1:80" }] });
  });

  test("a # after a value is part of the value", () => {
    expect(parse("management_token = abc#def").managementToken).toBe("abc#def");
    expect(parse("state_file = /x # note").stateFile).toBe("/x # note");
    expect(failure("workers = 2 # two")).toBe(
      `${PATH}:1: workers: "2 # two" is not a positive whole number`,
    );
  });

  test("keys are case-insensitive", () => {
    expect(parse("BIND = *:81\nState_File = /s.json\nDEBUG = FALSE")).toEqual({
      bind: [{ host: "::", port: 81, text: "*:81" }],
      stateFile: "/s.json",
      debug: false,
    });
  });

  test("bind keys repeat and accept comma lists", () => {
    const settings = parse(
      "bind = *:80\nbind = 127.0.0.1:81, [::1]:82\nbind_management = 127.0.0.1:1,127.0.0.1:2",
    );
    expect(settings.bind?.map((address) => address.text)).toEqual([
      "*:80",
      "127.0.0.1:81",
      "[::1]:82",
    ]);
    expect(settings.bindManagement?.map((address) => address.text)).toEqual([
      "127.0.0.1:1",
      "127.0.0.1:2",
    ]);
  });

  test("other keys may not repeat", () => {
    expect(failure("workers = 1\n\nWORKERS = 2")).toBe(
      `${PATH}:3: workers is already set on line 1 (keys that may repeat: bind, bind_internal, bind_management, bind_tls)`,
    );
  });

  test("line numbers count blank and comment lines", () => {
    expect(failure("# one\n\nbind = *:80\n\n bind = 1.2.3.4")).toBe(
      `${PATH}:5: bind: "1.2.3.4" is not an address: expected host:port, [ipv6]:port or *:port`,
    );
  });

  test("a line without =", () => {
    expect(failure("bind *:80")).toBe(`${PATH}:1: no "=" after "bind": expected key = value`);
    // A token line missing its "=" must not print the token.
    expect(failure("management_token hunter2")).not.toContain("hunter2");
  });

  test("no key or no value", () => {
    expect(failure("= *:80")).toBe(`${PATH}:1: no key before "="`);
    expect(failure("state_file =")).toBe(`${PATH}:1: state_file: no value after "="`);
    expect(failure("bind = *:80,")).toBe(`${PATH}:1: bind: empty address in "*:80,"`);
  });

  test.each([
    ["connect_timeout = 0", /connect_timeout: "0" must be more than 0 seconds/],
    ["backend_timeout = -1", /backend_timeout: "-1" is not a number of seconds/],
    ["idle_timeout = 1e3", /idle_timeout: "1e3" is not a number of seconds/],
    ["head_timeout = ten", /head_timeout: "ten" is not a number of seconds/],
    ["head_timeout = Infinity", /head_timeout: "Infinity" is not a number of seconds/],
    ["head_timeout = 0x10", /head_timeout: "0x10" is not a number of seconds/],
    ["idle_timeout = 9999999", /idle_timeout: "9999999" is more than 2147483 seconds/],
    ["shutdown_grace = -0.5", /shutdown_grace: "-0.5" is not a number of seconds/],
    ["max_connections = 0", /max_connections: "0" is not a positive whole number/],
    ["max_spinning = 1.5", /max_spinning: "1.5" is not a positive whole number/],
    ["workers = -2", /workers: "-2" is not a positive whole number/],
    ["workers = 99999999999999999999", /workers: "9+" is not a positive whole number/],
    ["debug = yes", /debug: "yes" is not true or false/],
    ["management_token = two words", /management_token: the token must not contain white space/],
    ["uid = nobody-here", /uid: no user named "nobody-here" in .*passwd/],
    ["gid = nobody-here", /gid: no group named "nobody-here" in .*group/],
    ["uid = 4294967295", /uid: user id 4294967295 is more than 4294967294/],
  ])("rejects %p", (text, message) => {
    expect(failure(text)).toMatch(new RegExp(`^${PATH}:1: ${message.source}`));
  });

  test("accepts fractional and edge numbers", () => {
    expect(parse("connect_timeout = .25").connectTimeout).toBe(0.25);
    expect(parse("connect_timeout = 3.").connectTimeout).toBe(3);
    expect(parse("shutdown_grace = 0.0").shutdownGrace).toBe(0);
    expect(parse("max_connections = 007").maxConnections).toBe(7);
  });

  test("uid and gid resolve names and keep numbers", () => {
    expect(parse("uid = www-data\ngid = mantrid")).toEqual({ uid: 33, gid: 1001 });
    expect(parse("uid = 0\ngid = 4242")).toEqual({ uid: 0, gid: 4242 });
  });

  test("uid and gid resolve root through the system files", () => {
    expect(parseConfigText("uid = root\ngid = root", PATH)).toEqual({ uid: 0, gid: 0 });
  });

  test("an unreadable account file is reported", () => {
    const missing = { passwdFile: join(dir, "none"), groupFile: join(dir, "none") };
    expect(() => parseConfigText("uid = alice", PATH, missing)).toThrow(
      /^\/srv\/mantrid.conf:1: uid: cannot read .*none to look up user "alice"/,
    );
  });
});

describe("the TLS, ACME, store and metrics keys", () => {
  test("parse into their settings", () => {
    const settings = parse(`
bind_tls = *:443
bind_tls = 127.0.0.1:8443
tls_default = example.com
tls_min_version = tlsv1.3
tls_ciphers = ECDHE-ECDSA-AES128-GCM-SHA256
cert_dir = /etc/mantrid/certs
acme_directory = https://127.0.0.1:14000/dir
acme_email = ops@example.com
acme_ca_root = /etc/mantrid/pebble.pem
acme_renew_before = 86400
acme_challenge = TLS-ALPN-01
store = ETCD
etcd_endpoints = http://127.0.0.1:2379, http://127.0.0.1:22379
etcd_prefix = /lb
metrics = false
`);
    expect(settings).toEqual({
      bindTls: [
        { host: "::", port: 443, text: "*:443" },
        { host: "127.0.0.1", port: 8443, text: "127.0.0.1:8443" },
      ],
      tlsDefault: "example.com",
      tlsMinVersion: "TLSv1.3",
      tlsCiphers: "ECDHE-ECDSA-AES128-GCM-SHA256",
      certDir: "/etc/mantrid/certs",
      acmeDirectory: "https://127.0.0.1:14000/dir",
      acmeEmail: "ops@example.com",
      acmeCaRoot: "/etc/mantrid/pebble.pem",
      acmeRenewBefore: 86400,
      acmeChallenge: "tls-alpn-01",
      store: "etcd",
      etcdEndpoints: ["http://127.0.0.1:2379", "http://127.0.0.1:22379"],
      etcdPrefix: "/lb/",
      metrics: false,
    });
  });

  test.each([
    ["tls_min_version = TLSv1.1", 'tls_min_version: "TLSv1.1" is not one of TLSv1.2, TLSv1.3'],
    ["store = redis", 'store: "redis" is not file or etcd'],
    [
      "acme_challenge = dns-01",
      'acme_challenge: "dns-01" is not one of auto, http-01, tls-alpn-01',
    ],
    ["etcd_endpoints = 127.0.0.1:2379", 'etcd_endpoints: "127.0.0.1:2379" is not a URL'],
    ["etcd_endpoints = ftp://x", 'etcd_endpoints: "ftp://x" is not an http:// or https:// URL'],
    ["etcd_prefix = mantrid", 'etcd_prefix: "mantrid" must start with "/"'],
    ["acme_directory = nowhere", 'acme_directory: "nowhere" is not a URL'],
  ])("rejects %s", (line, message) => {
    expect(failure(line)).toBe(`${PATH}:1: ${message}`);
  });
});
