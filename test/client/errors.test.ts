import { afterEach, describe, expect, test } from "bun:test";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { closedPort, type Harness, startHarness } from "../management/harness.ts";
import { client } from "./harness.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

test("a server that is down is one line and exit 1", async () => {
  const url = `http://127.0.0.1:${await closedPort()}`;
  const line =
    `mantrid client: cannot reach the management API at ${url} (connection refused); ` +
    "is mantrid running? set --url or MANTRID_URL\n";
  expect(await client(["--url", url, "list"])).toEqual({ code: 1, stdout: "", stderr: line });
  expect(await client(["list"], { env: { MANTRID_URL: url } })).toEqual({
    code: 1,
    stdout: "",
    stderr: line,
  });
});

test("the default URL is named when nothing else is given", async () => {
  const outcome = await client(["list"], { env: {} });
  // Something may listen on 8042 here; only the failure's wording is checked.
  if (outcome.code !== 0) expect(outcome.stderr).toContain("http://127.0.0.1:8042");
});

describe("a wrong command line is one line on stderr and exit 2", () => {
  const cases: [string[], string][] = [
    [[], "no command given"],
    [["frobnicate"], 'unknown command "frobnicate"'],
    [["toString"], 'unknown command "toString"'],
    [["list", "--colour"], "unknown option --colour"],
    [["list", "--json=yes"], "--json takes no value"],
    [["list", "-v"], "unknown option -v"],
    [["list", "--url"], "--url needs a value"],
    [["list", "extra"], "list takes no arguments"],
    [["get"], "get takes <host>"],
    [["get", "a.com", "b.com"], "get takes <host>"],
    [["stats", "a.com", "b.com"], "stats takes [host]"],
    [["set", "a.com", "spin"], "set takes <host> <action> <true|false> [key=value ...]"],
    [["set", "a.com", "spin", "yes"], 'the subdomains flag must be true or false, not "yes"'],
    [["set", "a.com", "empty", "true", "code"], '"code" is not an option: write key=value'],
    [["set", "a.com", "empty", "true", "=204"], '"=204" is not an option: write key=value'],
    [
      ["list", "--url", "127.0.0.1:8042"],
      '--url "127.0.0.1:8042" is not an http:// or https:// URL; did you mean http://127.0.0.1:8042?',
    ],
    [
      ["list", "--url", "ftp://x"],
      '--url "ftp://x" is not an http:// or https:// URL; e.g. http://127.0.0.1:8042',
    ],
  ];
  for (const [argv, message] of cases) {
    test(`${JSON.stringify(argv)}: ${message}`, async () => {
      const outcome = await client(argv, { env: { MANTRID_URL: "http://127.0.0.1:1" } });
      expect(outcome).toEqual({
        code: 2,
        stdout: "",
        stderr: `mantrid client: ${message}; see mantrid client --help\n`,
      });
    });
  }
});

describe("a rule that fails the local checks is exit 1, naming the field, and is not sent", () => {
  const cases: [string[], string][] = [
    [
      ["set", "a.com", "empty", "true", "code=abc"],
      "invalid rule at options/code: code must be a number",
    ],
    [
      ["set", "a.com", "proxy", "true", "backends=a.com"],
      'invalid rule at options/backends/0: "a.com" is not host:port (an IPv6 address as [::1]:port)',
    ],
    [
      ["set", "a.com", "nope", "true"],
      'invalid action "nope": use one of proxy, static, redirect, empty, spin, unknown, no_hosts',
    ],
    [
      ["set", "bad_host", "spin", "true"],
      "invalid hostname \"bad_host\": a hostname is dot-separated labels of letters, digits and '-', optionally prefixed by http:// or https://",
    ],
    [
      ["get", "-", "--"],
      "invalid hostname \"-\": a hostname is dot-separated labels of letters, digits and '-', optionally prefixed by http:// or https://",
    ],
  ];
  for (const [argv, message] of cases) {
    test(message, async () => {
      h = await startHarness();
      expect(await client(["--url", h.url, ...argv])).toEqual({
        code: 1,
        stdout: "",
        stderr: `mantrid client: ${message}\n`,
      });
      expect(h.registry.size).toBe(0);
    });
  }
});

describe("load checks the rule set before sending it", () => {
  async function file(text: string): Promise<string> {
    const path = join(h!.stateDir, "rules.json");
    await writeFile(path, text);
    return path;
  }

  test("invalid JSON", async () => {
    h = await startHarness();
    const path = await file("{");
    const outcome = await client(["--url", h.url, "load", path]);
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toStartWith(`mantrid client: ${path} is not valid JSON: `);
  });

  test("a bad rule, named by its path", async () => {
    h = await startHarness();
    await client(["--url", h.url, "set", "keep.com", "spin", "true"]);
    const path = await file(JSON.stringify({ "a.com": ["empty", { code: 99 }, true] }));
    expect(await client(["--url", h.url, "load", path])).toEqual({
      code: 1,
      stdout: "",
      stderr: `mantrid client: ${path}: invalid rule set at a.com/options/code: code must be an HTTP status from 200 to 599\n`,
    });
    expect(Object.keys(h.registry.all())).toEqual(["keep.com"]);
  });

  test("not an object", async () => {
    h = await startHarness();
    const outcome = await client(["--url", h.url, "load", "-"], { stdin: "[]" });
    expect(outcome).toEqual({
      code: 1,
      stdout: "",
      stderr:
        "mantrid client: stdin must hold a JSON object of hostname to [action, options, subdomains]\n",
    });
  });

  test("a missing file", async () => {
    h = await startHarness();
    const outcome = await client(["--url", h.url, "load", "/nonexistent/rules.json"]);
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toStartWith("mantrid client: cannot read /nonexistent/rules.json: ");
  });
});

test("an error answer is the server's line, exit 1", async () => {
  h = await startHarness();
  expect(await client(["--url", h.url, "delete", "a.com"])).toEqual({
    code: 1,
    stdout: "",
    stderr: "mantrid client: no rule for a.com\n",
  });
  expect(await client(["--url", h.url, "stats", "a.com"])).toEqual({
    code: 1,
    stdout: "",
    stderr: "mantrid client: no rule and no stats for a.com\n",
  });
});

test("a server that is not mantrid's API is named as such", async () => {
  const html = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () =>
      new Response("<!DOCTYPE html>\n<p>no", {
        status: 503,
        headers: { "content-type": "text/html; charset=utf-8" },
      }),
  });
  const other = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => Response.json({ status: "fine" }, { status: 404 }),
  });
  const advice =
    "point --url or MANTRID_URL at the management address, by default http://127.0.0.1:8042";
  try {
    const htmlUrl = `http://127.0.0.1:${html.port}`;
    expect(await client(["--url", htmlUrl, "list"])).toEqual({
      code: 1,
      stdout: "",
      stderr:
        `mantrid client: the server at ${htmlUrl} is not a Mantrid management API ` +
        `(it answered 503 with text/html that is not JSON); ${advice}\n`,
    });
    // JSON, but without the API's error line: still not the API, and --json prints nothing of it.
    const otherUrl = `http://127.0.0.1:${other.port}`;
    expect(await client(["--url", otherUrl, "--json", "get", "a.com"])).toEqual({
      code: 1,
      stdout: "",
      stderr:
        `mantrid client: the server at ${otherUrl} is not a Mantrid management API ` +
        `(it answered 404 with JSON the API never sends); ${advice}\n`,
    });
  } finally {
    await html.stop(true);
    await other.stop(true);
  }
});
