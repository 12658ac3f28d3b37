/** `mantrid client cert ...` against a real management API serving certificates. */
import { afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Harness, startHarness } from "../management/harness.ts";
import { makeCa, type Pem, type TestCa } from "../support/certificates.ts";
import { keyBody, leakedLine } from "../support/key-body.ts";
import { client } from "./harness.ts";

let ca: TestCa;
let pem: Pem;
let wild: Pem;
let h: Harness;
let run: (...args: string[]) => ReturnType<typeof client>;
let files: { pem: string; crt: string; key: string; wildPem: string; chainOnly: string };

beforeAll(async () => {
  ca = await makeCa();
  pem = await ca.issue(["example.com", "www.example.com"]);
  wild = await ca.issue(["*.example.com"], { kind: "rsa" });
});
beforeEach(async () => {
  h = await startHarness({ certificates: {} });
  run = (...args) => client(["--url", h.url, ...args]);
  const at = (name: string) => join(h.staticDir, "..", name);
  files = {
    pem: at("example.com.pem"),
    crt: at("example.com.crt"),
    key: at("example.com.key"),
    wildPem: at("wild.pem"),
    chainOnly: at("chain.pem"),
  };
  await writeFile(files.pem, `${pem.chain}${pem.key}`);
  await writeFile(files.crt, pem.chain);
  await writeFile(files.key, pem.key);
  await writeFile(files.wildPem, `${wild.chain}${wild.key}`);
  await writeFile(files.chainOnly, pem.chain);
});
afterEach(() => h.close());

const expiry = (one: Pem) =>
  `${new Date(
    h.certificates!.catalog.all().find((c) => c.cert.startsWith(one.leaf.trim()))!.notAfter,
  )
    .toISOString()
    .replace(".000Z", "Z")}`;

describe("set", () => {
  test("from one .pem, or a chain and a key apart, or with the * of a wildcard", async () => {
    const fromPem = await run("cert", "set", "example.com", files.pem);
    expect(fromPem.code).toBe(0);
    expect(fromPem.stdout).toBe(
      `set example.com: api, expires ${expiry(pem)}, by CN=Mantrid Test CA\n`,
    );
    expect((await run("cert", "set", "WWW.example.com", files.crt, files.key)).stdout).toStartWith(
      "set www.example.com: api, expires ",
    );
    expect((await run("cert", "set", "*.example.com", files.wildPem)).code).toBe(0);
    expect(h.certificates!.catalog.all().map((one) => `${one.source} ${one.name}`)).toEqual([
      "api *.example.com",
      "api example.com",
      "api www.example.com",
    ]);
  });

  test("the server's refusal is one line and exit 1; nothing changes", async () => {
    const other = await ca.issue(["other.example.com"]);
    await writeFile(files.key, other.key);
    const outcome = await run("cert", "set", "example.com", files.crt, files.key);
    expect(outcome).toEqual({
      code: 1,
      stdout: "",
      stderr:
        "mantrid client: invalid certificate at key: the key does not match the leaf (CN=example.com)\n",
    });
    expect(leakedLine(outcome.stderr, keyBody(other.key))).toBeUndefined();
    expect(h.certificates!.catalog.all()).toEqual([]);
  });

  test("a .pem without its key, a file that is not there, a bad name: refused before sending", async () => {
    expect(await run("cert", "set", "example.com", files.chainOnly)).toEqual({
      code: 1,
      stdout: "",
      stderr: `mantrid client: ${files.chainOnly} holds no private key: give the key file after it\n`,
    });
    const missing = await run("cert", "set", "example.com", join(h.staticDir, "nope.pem"));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toStartWith(
      `mantrid client: cannot read ${join(h.staticDir, "nope.pem")}:`,
    );
    expect(await run("cert", "set", "http://example.com", files.pem)).toEqual({
      code: 1,
      stdout: "",
      stderr:
        'mantrid client: invalid name "http://example.com": a certificate name is a hostname or *.example.com, without a protocol\n',
    });
    expect(h.certificates!.catalog.all()).toEqual([]);
  });
});

describe("list, get, delete", () => {
  test("a table, one line per name; get shows one; delete takes it back", async () => {
    await run("cert", "set", "example.com", files.pem);
    await run("cert", "set", "*.example.com", files.wildPem);
    const listed = await run("cert", "list");
    expect(listed.code).toBe(0);
    expect(listed.stdout.split("\n")).toEqual([
      "NAME                                SOURCE EXPIRES              ISSUER                    NAMES",
      `*.example.com                       api    ${expiry(wild)} CN=Mantrid Test CA        *.example.com`,
      `example.com                         api    ${expiry(pem)} CN=Mantrid Test CA        example.com,www.example.com`,
      "",
    ]);
    const one = await run("cert", "get", "*.example.com");
    expect(one.stdout.split("\n")[1]).toStartWith("*.example.com                       api    ");

    expect(await run("cert", "delete", "*.example.com")).toEqual({
      code: 0,
      stdout: "deleted *.example.com\n",
      stderr: "",
    });
    expect(await run("cert", "get", "*.example.com")).toEqual({
      code: 1,
      stdout: "",
      stderr: "mantrid client: no certificate is kept for *.example.com\n",
    });
    expect(await run("cert", "delete", "*.example.com")).toEqual({
      code: 1,
      stdout: "",
      stderr: "mantrid client: no certificate was given for *.example.com through the API\n",
    });
  });

  test("--json prints the API's answers as they are, never a key", async () => {
    await run("cert", "set", "example.com", files.pem);
    const listed = await run("cert", "list", "--json");
    const answer = JSON.parse(listed.stdout) as { name: string; source: string }[];
    expect(answer.map((one) => [one.name, one.source])).toEqual([["example.com", "api"]]);
    expect(leakedLine(listed.stdout, keyBody(pem.key))).toBeUndefined();
  });

  test("an empty list is the header alone", async () => {
    expect((await run("cert", "list")).stdout).toBe(
      "NAME                                SOURCE EXPIRES              ISSUER                    NAMES\n",
    );
  });
});

describe("a wrong command line is one line and exit 2", () => {
  const cases: [string[], string][] = [
    [["cert"], "cert takes <list|get|set|delete> [arguments ...]"],
    [["cert", "renew"], 'unknown cert operation "renew": use list, get, set or delete'],
    [["cert", "list", "x"], "cert list takes no arguments"],
    [["cert", "get"], "cert get takes <name>"],
    [["cert", "set", "example.com"], "cert set takes <name> <cert-file> [key-file]"],
    [["cert", "set", "a.com", "b", "c", "d"], "cert set takes <name> <cert-file> [key-file]"],
    [["cert", "delete", "a.com", "b.com"], "cert delete takes <name>"],
  ];
  for (const [args, message] of cases) {
    test(args.join(" "), async () => {
      expect(await run(...args)).toEqual({
        code: 2,
        stdout: "",
        stderr: `mantrid client: ${message}; see mantrid client --help\n`,
      });
    });
  }

  test("help cert lists the operations", async () => {
    const help = await run("help", "cert");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("cert set <name> <cert-file> [key-file]");
    expect(help.stdout).toContain("A name is a hostname or *.example.com");
  });
});
