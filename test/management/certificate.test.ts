/**
 * `/certificate/` over real HTTP: certificates given, listed, shown and taken
 * back; refused ones change nothing, on disk or in the list; no answer and no
 * log line holds a key; the API's certificate wins over cert_dir's; what was
 * acknowledged is there after a restart.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { certificateFolder } from "../../src/tls/sources.ts";
import { makeCa, type Pem, type TestCa } from "../support/certificates.ts";
import { keyBody, leakedLine } from "../support/key-body.ts";
import { catchServerLog } from "../support/stderr.ts";
import { call, type Harness, type Reply, startHarness } from "./harness.ts";

let ca: TestCa;
let pem: Pem;
let wild: Pem;
let other: Pem;
let expired: Pem;
let h: Harness;
/** Every answer of the file's tests, as text: none may hold a key. */
const answers: string[] = [];

beforeAll(async () => {
  ca = await makeCa();
  pem = await ca.issue(["example.com", "www.example.com"], { kind: "rsa" });
  wild = await ca.issue(["*.example.com"]);
  other = await ca.issue(["other.example.com"]);
  expired = await ca.issue(["old.example.com"], {
    notBefore: new Date("2020-01-01T00:00:00Z"),
    notAfter: new Date("2021-03-04T05:06:07Z"),
  });
  h = await startHarness({ certificates: {} });
});
afterAll(() => h.close());

const logged = catchServerLog();
afterEach(() => {
  const keys = [pem, wild, other, expired].flatMap((one) => keyBody(one.key));
  expect(leakedLine(logged.join(""), keys)).toBeUndefined();
});

async function api(method: string, path: string, body?: unknown, url = h.url): Promise<Reply> {
  const reply = await call(url, method, path, body);
  answers.push(JSON.stringify(reply.body));
  return reply;
}

/** The list and every file in the store, to compare before and after a refusal. */
async function everything(harness = h): Promise<unknown> {
  const folder = certificateFolder(harness.stateFile);
  const files: Record<string, string> = {};
  for (const part of ["api", "acme"]) {
    for (const file of await readdir(join(folder, part))) {
      files[`${part}/${file}`] = await readFile(join(folder, part, file), "utf8");
    }
  }
  return { list: (await api("GET", "/certificate/")).body, files };
}

describe("given, listed, shown, taken back", () => {
  test("PUT stores and serves it; GET shows its summary, never its key", async () => {
    const put = await api("PUT", "/certificate/example.com", { cert: pem.chain, key: pem.key });
    expect(put.status).toBe(200);
    const summary = {
      name: "example.com",
      source: "api",
      not_before: expect.any(String),
      not_after: expect.any(String),
      issuer: "CN=Mantrid Test CA",
      names: ["example.com", "www.example.com"],
    };
    expect(put.body).toEqual(summary);
    expect((await api("GET", "/certificate/example.com")).body).toEqual(put.body);
    expect((await api("GET", "/certificate/")).body).toEqual([put.body]);
    expect(h.certificates!.catalog.serving("example.com")?.key).toBe(`${pem.key.trim()}\n`);
    const file = h.certificates!.kept.store.pathOf("api", "example.com");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(logged.map((line) => line.replace(/^\S+ /, "").trimEnd())).toEqual([
      `info  certificate set example.com: api, expires ${(put.body as { not_after: string }).not_after} (by 127.0.0.1)`,
    ]);
  });

  test("a wildcard, as %2A or as *, is one name", async () => {
    const put = await api("PUT", "/certificate/%2A.example.com", {
      cert: wild.chain,
      key: wild.key,
    });
    expect(put.status).toBe(200);
    expect((put.body as { name: string }).name).toBe("*.example.com");
    expect((await api("GET", "/certificate/*.example.com")).body).toEqual(put.body);
    expect((await api("GET", "/certificate/%2a.EXAMPLE.com")).body).toEqual(put.body);
    expect(await readdir(join(certificateFolder(h.stateFile), "api"))).toContain(
      "_wildcard.example.com.pem",
    );
    expect((await api("GET", "/certificate/shop.example.com")).body).toEqual({
      error: "no certificate is kept for shop.example.com; *.example.com covers it",
    });
    expect((await api("DELETE", "/certificate/*.example.com")).status).toBe(200);
    expect((await api("GET", "/certificate/%2A.example.com")).body).toEqual({
      error: "no certificate is kept for *.example.com",
    });
  });

  test("DELETE removes it, file and all; again is a 404", async () => {
    await api("PUT", "/certificate/other.example.com", { cert: other.chain, key: other.key });
    logged.length = 0;
    const deleted = await api("DELETE", "/certificate/other.example.com");
    expect(deleted.body).toEqual({ ok: true, serving: null });
    expect(logged.join("")).toContain("certificate deleted other.example.com: api, expires ");
    expect(logged.join("")).toContain("(by 127.0.0.1)");
    const again = await api("DELETE", "/certificate/other.example.com");
    expect(again).toMatchObject({
      status: 404,
      body: { error: "no certificate was given for other.example.com through the API" },
    });
    expect((await api("GET", "/certificate/other.example.com")).status).toBe(404);
    const file = h.certificates!.kept.store.pathOf("api", "other.example.com");
    expect(await Bun.file(file).exists()).toBe(false);
  });

  test("other methods are refused with Allow", async () => {
    const post = await api("POST", "/certificate/example.com", {});
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD, PUT, DELETE");
    expect((await api("PUT", "/certificate/", {})).status).toBe(405);
  });
});

describe("refused, and nothing changed", () => {
  const cases: [string, string, () => unknown, string][] = [
    [
      "a key that is not the leaf's",
      "example.com",
      () => ({ cert: pem.chain, key: other.key }),
      "invalid certificate at key: the key does not match the leaf (CN=example.com)",
    ],
    [
      "an expired leaf",
      "old.example.com",
      () => ({ cert: expired.chain, key: expired.key }),
      "invalid certificate at cert: the leaf expired on 2021-03-04T05:06:07.000Z",
    ],
    [
      "garbage for the chain",
      "example.com",
      () => ({ cert: "hello", key: pem.key }),
      "invalid certificate at cert: the chain holds no PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)",
    ],
    [
      "garbage for the key",
      "example.com",
      () => ({
        cert: pem.chain,
        key: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
      }),
      "invalid certificate at key: the PRIVATE KEY block does not decode as a private key",
    ],
    [
      "the chain in the wrong order",
      "example.com",
      () => ({ cert: `${ca.cert}\n${pem.leaf}`, key: pem.key }),
      "invalid certificate at cert: the chain is out of order: certificate 2 (CN=example.com) did not " +
        "issue certificate 1 (CN=Mantrid Test CA); give the leaf first, then each issuer",
    ],
    [
      "a name the leaf does not cover",
      "api.example.com",
      () => ({ cert: pem.chain, key: pem.key }),
      "invalid certificate at cert: the leaf's names (example.com, www.example.com) do not cover api.example.com",
    ],
    [
      "a key missing",
      "example.com",
      () => ({ cert: pem.chain }),
      `invalid certificate at key: key is missing; a certificate is a JSON object {"cert": "<PEM chain>", "key": "<PEM key>"}`,
    ],
    [
      "a field of its own",
      "example.com",
      () => ({ cert: pem.chain, key: pem.key, chain: "" }),
      'invalid certificate at chain: a certificate is a JSON object {"cert": "<PEM chain>", "key": "<PEM key>"}, with no other field',
    ],
    [
      "a chain larger than any",
      "example.com",
      () => ({ cert: "A".repeat(1024 * 1024 + 1), key: pem.key }),
      "invalid certificate at cert: cert is at most 1048576 characters",
    ],
    [
      "an array for a body",
      "example.com",
      () => [pem.chain, pem.key],
      'invalid certificate: a certificate is a JSON object {"cert": "<PEM chain>", "key": "<PEM key>"}',
    ],
    [
      "a number for the chain",
      "example.com",
      () => ({ cert: 42, key: pem.key }),
      "invalid certificate at cert: cert must be a string: the PEM chain, leaf first",
    ],
    ["no JSON", "example.com", () => "{cert:", expect.stringMatching(/^invalid JSON: /) as never],
    [
      "a protocol in the name",
      "http%3A%2F%2Fexample.com",
      () => ({ cert: pem.chain, key: pem.key }),
      'invalid name "http://example.com": a certificate name is a hostname or *.example.com, without a protocol',
    ],
  ];

  for (const [what, name, body, error] of cases) {
    test(what, async () => {
      // One served already: a refusal must not replace it either.
      await api("PUT", "/certificate/example.com", { cert: pem.chain, key: pem.key });
      const before = await everything();
      logged.length = 0;
      const reply = await api("PUT", `/certificate/${name}`, body());
      expect(reply.status).toBe(400);
      expect((reply.body as { error: string }).error).toEqual(error);
      expect(await everything()).toEqual(before);
      expect(logged).toEqual([]);
    });
  }
});

describe("abusive clients", () => {
  test("a name that is not percent-encoding, or holds a slash: 400, nothing changed", async () => {
    const before = await everything();
    const body = { cert: pem.chain, key: pem.key };
    const bad = await api("PUT", "/certificate/%E0%A4%A", body);
    expect(bad).toMatchObject({
      status: 400,
      body: { error: "the name is not valid percent-encoding: %E0%A4%A" },
    });
    const slash = await api("PUT", "/certificate/example.com/extra", body);
    expect(slash.status).toBe(400);
    expect((slash.body as { issues: { path: string[] }[] }).issues[0]!.path).toEqual(["name"]);
    expect(await everything()).toEqual(before);
  });

  test("many PUTs of one name at once: what serves is what is on disk", async () => {
    const versions = await Promise.all([1, 2, 3, 4, 5].map(() => ca.issue(["race.example.com"])));
    const replies = await Promise.all(
      versions.map((one) =>
        api("PUT", "/certificate/race.example.com", { cert: one.chain, key: one.key }),
      ),
    );
    expect(replies.map((reply) => reply.status)).toEqual([200, 200, 200, 200, 200]);
    const serving = h.certificates!.catalog.serving("race.example.com")!;
    const file = h.certificates!.kept.store.pathOf("api", "race.example.com");
    expect(await readFile(file, "utf8")).toBe(`${serving.cert}${serving.key}`);
    expect((await api("DELETE", "/certificate/race.example.com")).status).toBe(200);
  });
});

describe("with cert_dir", () => {
  let dir: string;
  let withDir: Harness;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mantrid-certdir-api-"));
    await writeFile(join(dir, "example.com.pem"), `${pem.chain}${pem.key}`);
    withDir = await startHarness({ certificates: { certDir: dir } });
  });
  afterAll(async () => {
    await withDir.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("the API's certificate serves over the folder's; deleted, the folder's serves again", async () => {
    const url = withDir.url;
    expect((await api("GET", "/certificate/example.com", undefined, url)).body).toMatchObject({
      source: "dir",
    });
    const renewed = await ca.issue(["example.com"]);
    const given = { cert: renewed.chain, key: renewed.key };
    expect((await api("PUT", "/certificate/example.com", given, url)).body).toMatchObject({
      source: "api",
      names: ["example.com"],
    });
    expect((await api("GET", "/certificate/", undefined, url)).body).toEqual([
      expect.objectContaining({ name: "example.com", source: "api" }),
    ]);
    logged.length = 0;
    const deleted = await api("DELETE", "/certificate/example.com", undefined, url);
    expect(deleted.body).toMatchObject({ ok: true, serving: { source: "dir" } });
    expect(logged.join("")).toContain("; dir serves it now (by 127.0.0.1)");
    const again = await api("DELETE", "/certificate/example.com", undefined, url);
    expect(again.body).toEqual({
      error:
        "no certificate was given for example.com through the API (the one from dir serves it)",
    });
    expect((await api("GET", "/certificate/example.com", undefined, url)).body).toMatchObject({
      source: "dir",
    });
  });
});

describe("across a restart", () => {
  test("what was acknowledged is served by the next server on the same state folder", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "mantrid-certrestart-"));
    try {
      const first = await startHarness({ certificates: {}, stateDir });
      const put = await api(
        "PUT",
        "/certificate/*.example.com",
        { cert: wild.chain, key: wild.key },
        first.url,
      );
      await api(
        "PUT",
        "/certificate/other.example.com",
        { cert: other.chain, key: other.key },
        first.url,
      );
      await api("DELETE", "/certificate/other.example.com", undefined, first.url);
      await first.close();
      const second = await startHarness({ certificates: {}, stateDir });
      try {
        expect((await api("GET", "/certificate/", undefined, second.url)).body).toEqual([put.body]);
      } finally {
        await second.close();
      }
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});

test("a token is asked for, as on every route", async () => {
  const guarded = await startHarness({ certificates: {}, token: "sesame" });
  try {
    expect((await api("GET", "/certificate/", undefined, guarded.url)).status).toBe(401);
    const put = await api(
      "PUT",
      "/certificate/other.example.com",
      { cert: other.chain, key: other.key },
      guarded.url,
    );
    expect(put.status).toBe(401);
    expect(guarded.certificates!.catalog.all()).toEqual([]);
  } finally {
    await guarded.close();
  }
});

// Last: every answer above was a chance to leak one.
test("no answer held a key", () => {
  expect(answers.length).toBeGreaterThan(40);
  const keys = [pem, wild, other, expired].flatMap((one) => keyBody(one.key));
  expect(leakedLine(answers.join("\n"), keys)).toBeUndefined();
});
