import { afterEach, describe, expect, test } from "bun:test";
import { type Harness, startHarness } from "../management/harness.ts";
import { client } from "./harness.ts";

let h: Harness;
afterEach(() => h.close());

const SPIN = ["set", "a.com", "spin", "true"];

describe("where the management API is", () => {
  test("--url before or after the command, with a space or =", async () => {
    h = await startHarness();
    for (const argv of [
      ["--url", h.url, ...SPIN],
      [...SPIN, "--url", h.url],
      ["set", "a.com", `--url=${h.url}`, "spin", "true"],
      ["list", "--url", h.url],
    ]) {
      expect((await client(argv)).code).toBe(0);
    }
    expect(h.registry.size).toBe(1);
  });

  test("MANTRID_URL when there is no --url, and --url over MANTRID_URL", async () => {
    h = await startHarness();
    expect((await client(SPIN, { env: { MANTRID_URL: h.url } })).code).toBe(0);
    expect(h.registry.size).toBe(1);
    const wrong = { MANTRID_URL: "http://127.0.0.1:1" };
    expect((await client(["list", "--url", h.url], { env: wrong })).code).toBe(0);
  });

  test("a URL with a trailing slash", async () => {
    h = await startHarness();
    expect((await client(["list", "--url", `${h.url}/`])).code).toBe(0);
  });
});

describe("the token", () => {
  const TOKEN = "t0ken";

  test("from --token or MANTRID_TOKEN", async () => {
    h = await startHarness({ token: TOKEN });
    expect((await client(["--url", h.url, "--token", TOKEN, ...SPIN])).code).toBe(0);
    const env = { MANTRID_URL: h.url, MANTRID_TOKEN: TOKEN };
    expect((await client(["delete", "a.com"], { env })).code).toBe(0);
    expect((await client(["list", `--token=${TOKEN}`], { env: { MANTRID_URL: h.url } })).code).toBe(
      0,
    );
  });

  test("missing or wrong, the server's refusal is the one line", async () => {
    h = await startHarness({ token: TOKEN });
    expect(await client(["--url", h.url, ...SPIN])).toEqual({
      code: 1,
      stdout: "",
      stderr: "mantrid client: a token is required: send Authorization: Bearer <token>\n",
    });
    expect(await client(["--url", h.url, "--token", "nope", "list"])).toEqual({
      code: 1,
      stdout: "",
      stderr: "mantrid client: invalid token\n",
    });
    expect(h.registry.size).toBe(0);
  });
});

describe("--json prints the API's answer as it is", () => {
  test("for every command", async () => {
    h = await startHarness();
    const json = (...args: string[]) => client(["--url", h.url, "--json", ...args]);
    expect(await json(...SPIN)).toEqual({ code: 0, stdout: '{"ok":true}\n', stderr: "" });
    const rule = '["spin",{"timeout":120,"check_interval":1},true]';
    expect((await json("get", "a.com")).stdout).toBe(`${rule}\n`);
    expect((await json("list")).stdout).toBe(`{"a.com":${rule}}\n`);
    expect((await json("dump")).stdout).toBe(`{"a.com":${rule}}\n`);
    const zero = '{"open_requests":0,"completed_requests":0,"bytes_sent":0,"bytes_received":0}';
    expect((await json("stats")).stdout).toBe(`{"a.com":${zero}}\n`);
    expect((await json("stats", "a.com")).stdout).toBe(`${zero}\n`);
    expect(await client(["--url", h.url, "load", "--json"], { stdin: "{}" })).toEqual({
      code: 0,
      stdout: '{"ok":true}\n',
      stderr: "",
    });
    expect((await json("set", "a.com", "spin", "true")).code).toBe(0);
    expect((await json("delete", "a.com")).stdout).toBe('{"ok":true}\n');
  });

  test("an error answer too, with the line on stderr", async () => {
    h = await startHarness();
    expect(await client(["--url", h.url, "--json", "get", "a.com"])).toEqual({
      code: 1,
      stdout: '{"error":"no rule for a.com"}\n',
      stderr: "mantrid client: no rule for a.com\n",
    });
  });
});

test("--help and -h print the usage on stdout, before or after the command", async () => {
  for (const argv of [["--help"], ["-h"], ["help"]]) {
    const outcome = await client(argv);
    expect(outcome.code).toBe(0);
    expect(outcome.stderr).toBe("");
    expect(outcome.stdout).toContain("USAGE mantrid client [OPTIONS] list|get|set|delete|stats");
    expect(outcome.stdout).toContain("--url=<url>");
    expect(outcome.stdout).toContain("--wait");
    // Plain text: no escape sequences, so it reads the same in a pipe.
    expect(outcome.stdout).not.toContain("\x1b");
  }
  for (const argv of [
    ["set", "--help"],
    ["set", "-h"],
    ["-h", "set"],
    ["help", "set"],
  ]) {
    const outcome = await client(argv);
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toContain(
      "USAGE mantrid client set [OPTIONS] <HOST> <ACTION> <SUBDOMAINS> [KEY=VALUE]",
    );
    expect(outcome.stdout).toContain("redirect_to=URL");
  }
});

test("the help of set names the options of https backends, redirect_https and tls", async () => {
  const { stdout } = await client(["set", "--help"]);
  expect(stdout).toContain("[ca=FILE] [verify=false]");
  expect(stdout).toContain("https://HOST:PORT is reached over TLS");
  expect(stdout).toContain("Any action also takes\n  redirect_https=true");
  expect(stdout).toContain("  tls=auto ");
});

test("the help lists no option that does nothing", async () => {
  const { stdout } = await client(["set", "--help"]);
  expect(stdout).toContain("spin      [timeout=SECONDS]\n");
  expect(stdout).not.toContain("check_interval");
});
