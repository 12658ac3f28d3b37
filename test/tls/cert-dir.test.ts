/**
 * cert_dir: read at start, followed as files come, change and go, read again
 * on rescan; a bad file is reported once, after it had its chance to be
 * finished, and the name's previous certificate keeps serving.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CertificateCatalog } from "../../src/tls/catalog.ts";
import { CertDir, type CertDirOptions } from "../../src/tls/cert-dir.ts";
import type { FolderProblem } from "../../src/tls/cert-dir-files.ts";
import type { Certificate } from "../../src/tls/certificate.ts";
import { makeCa, type Pem, type TestCa } from "../support/certificates.ts";
import { keyBody, leakedLine } from "../support/key-body.ts";
import { catchServerLog } from "../support/stderr.ts";

let ca: TestCa;
let folder: string;
let catalog: CertificateCatalog;
let dir: CertDir | null;
let problems: FolderProblem[];
let waiters: (() => void)[];

beforeAll(async () => {
  ca = await makeCa();
});
beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), "mantrid-certdir-"));
  catalog = new CertificateCatalog();
  dir = null;
  problems = [];
  waiters = [];
});
afterEach(async () => {
  await dir?.stop();
  await rm(folder, { recursive: true, force: true });
});

const logged = catchServerLog();

/** Started over the test's folder; a bad file is reported 50 ms after it was first seen. */
async function start(options: CertDirOptions = {}): Promise<CertDir> {
  dir = new CertDir(folder, catalog, {
    debounceMs: 10,
    settleMs: 50,
    retryMs: 10,
    onProblem: (problem) => {
      problems.push(problem);
      for (const wake of waiters.splice(0)) wake();
    },
    ...options,
  });
  await dir.start();
  return dir;
}

/** The next change of `name`'s serving certificate. */
function nextChange(name: string): Promise<Certificate | null> {
  return new Promise((resolve) => {
    const stop = catalog.onChange((changed, serving) => {
      if (changed !== name) return;
      stop();
      resolve(serving);
    });
  });
}

/** Resolves once `count` problems in all have been reported. */
async function problemsReported(count: number): Promise<void> {
  while (problems.length < count) await new Promise<void>((wake) => waiters.push(wake));
}

const pemFile = (pem: Pem) => `${pem.chain}${pem.key}`;
const put = (file: string, text: string) => writeFile(join(folder, file), text);

describe("at start", () => {
  test("<name>.pem, <name>.crt with <name>.key, both wildcard spellings; other files left alone", async () => {
    const a = await ca.issue(["a.example.com"]);
    const b = await ca.issue(["b.example.com"], { kind: "rsa" });
    const w = await ca.issue(["*.w.example.com"]);
    const v = await ca.issue(["*.v.example.com"]);
    await put("a.example.com.pem", pemFile(a));
    await put("b.example.com.crt", b.chain);
    await put("b.example.com.key", b.key);
    await put("_wildcard.w.example.com.pem", pemFile(w));
    await put("*.v.example.com.pem", pemFile(v));
    await put("README.txt", "not a certificate");
    await start();
    expect(catalog.all().map((one) => `${one.source} ${one.name}`)).toEqual([
      "dir *.v.example.com",
      "dir *.w.example.com",
      "dir a.example.com",
      "dir b.example.com",
    ]);
    expect(problems).toEqual([]);
  });

  test("a bad file is reported at once, in one line naming it, without its key", async () => {
    const a = await ca.issue(["a.example.com"]);
    const other = await ca.issue(["other.example.com"]);
    await put("a.example.com.pem", `${a.chain}${other.key}`);
    await start({ settleMs: 3_600_000 });
    expect(problems).toEqual([
      {
        name: "a.example.com",
        label: "a.example.com.pem",
        message: "the key does not match the leaf (CN=a.example.com)",
      },
    ]);
    expect(logged.length).toBe(1);
    expect(logged[0]).toContain(
      "cert_dir: a.example.com.pem: the key does not match the leaf (CN=a.example.com); " +
        "a.example.com does not serve from cert_dir",
    );
    expect(leakedLine(logged.join(""), keyBody(other.key))).toBeUndefined();
    expect(catalog.all()).toEqual([]);
  });

  test("files that cannot be told apart, and a .crt without its .key", async () => {
    const a = await ca.issue(["a.example.com"]);
    await put("a.example.com.pem", pemFile(a));
    await put("a.example.com.crt", a.chain);
    await put("lonely.example.com.crt", a.chain);
    await put("bad_name.pem", pemFile(a));
    await start();
    expect(problems.map((one) => `${one.label}: ${one.message}`).sort()).toEqual([
      "a.example.com.pem: a.example.com.crt also names a.example.com; keep the .pem or the .crt and .key",
      "bad_name.pem: a hostname is dot-separated labels of letters, digits and '-'",
      "lonely.example.com.crt: it has no .key next to it",
    ]);
  });
});

describe("followed", () => {
  test("a file added, changed, renamed into place, and removed", async () => {
    await start();
    const first = await ca.issue(["a.example.com"]);
    let change = nextChange("a.example.com");
    await put("a.example.com.pem", pemFile(first));
    expect((await change)?.cert).toStartWith(first.leaf.trim());

    const second = await ca.issue(["a.example.com"]);
    change = nextChange("a.example.com");
    await put(".a.example.com.pem.tmp", pemFile(second));
    await rename(join(folder, ".a.example.com.pem.tmp"), join(folder, "a.example.com.pem"));
    expect((await change)?.cert).toStartWith(second.leaf.trim());

    change = nextChange("a.example.com");
    await rm(join(folder, "a.example.com.pem"));
    expect(await change).toBeNull();
    expect(catalog.all()).toEqual([]);
    expect(problems).toEqual([]);
  });

  test("a .crt written before its .key, or a file written in two goes, loads with no report", async () => {
    await start({ settleMs: 60_000 });
    const b = await ca.issue(["b.example.com"]);
    let change = nextChange("b.example.com");
    await put("b.example.com.crt", b.chain);
    await put("b.example.com.key", b.key);
    expect((await change)?.names).toEqual(["b.example.com"]);

    const c = await ca.issue(["c.example.com"]);
    change = nextChange("c.example.com");
    const text = pemFile(c);
    await put("c.example.com.pem", text.slice(0, text.length / 2));
    await put("c.example.com.pem", text);
    expect((await change)?.names).toEqual(["c.example.com"]);
    expect(problems).toEqual([]);
  });

  test("a bad file is reported once, after the deadline; the previous certificate keeps serving", async () => {
    await start();
    const good = await ca.issue(["a.example.com"]);
    const change = nextChange("a.example.com");
    await put("a.example.com.pem", pemFile(good));
    const serving = await change;

    const expired = await ca.issue(["a.example.com"], {
      notBefore: new Date("2020-01-01T00:00:00Z"),
      notAfter: new Date("2021-01-01T00:00:00Z"),
    });
    await put("a.example.com.pem", pemFile(expired));
    await problemsReported(1);
    expect(problems[0]).toEqual({
      name: "a.example.com",
      label: "a.example.com.pem",
      message: "the leaf expired on 2021-01-01T00:00:00.000Z",
    });
    expect(catalog.serving("a.example.com")).toBe(serving);
    expect(logged.join("")).toContain(
      "cert_dir: a.example.com.pem: the leaf expired on 2021-01-01T00:00:00.000Z; " +
        "the previous certificate for a.example.com keeps serving",
    );

    // More changes in the folder look at it again: the same bad file is not reported again.
    const other = await ca.issue(["other.example.com"]);
    const added = nextChange("other.example.com");
    await put("other.example.com.pem", pemFile(other));
    await added;
    expect(problems.length).toBe(1);
    expect(catalog.serving("a.example.com")).toBe(serving);
  });

  test("removing one of a .crt and .key pair keeps serving; removing both stops", async () => {
    const b = await ca.issue(["b.example.com"]);
    await put("b.example.com.crt", b.chain);
    await put("b.example.com.key", b.key);
    await start();
    const serving = catalog.serving("b.example.com");
    await rm(join(folder, "b.example.com.key"));
    await problemsReported(1);
    expect(problems[0]!.message).toBe("it has no .key next to it");
    expect(catalog.serving("b.example.com")).toBe(serving);
    const gone = nextChange("b.example.com");
    await rm(join(folder, "b.example.com.crt"));
    expect(await gone).toBeNull();
  });
});

describe("rescan", () => {
  test("reads the folder when told, without waiting for the watcher", async () => {
    // The watcher's reading would come an hour after a change: only rescan reads.
    await start({ debounceMs: 3_600_000 });
    const a = await ca.issue(["a.example.com"]);
    await put("a.example.com.pem", pemFile(a));
    await dir!.rescan();
    expect(catalog.serving("a.example.com")?.source).toBe("dir");
    await rm(join(folder, "a.example.com.pem"));
    await dir!.rescan();
    expect(catalog.all()).toEqual([]);
  });

  test("reports each bad file again, and keeps what serves", async () => {
    const a = await ca.issue(["a.example.com"]);
    await put("a.example.com.pem", pemFile(a));
    await start({ debounceMs: 3_600_000 });
    const serving = catalog.serving("a.example.com");
    await put("a.example.com.pem", "garbage");
    await dir!.rescan();
    await dir!.rescan();
    expect(problems.map((one) => one.message)).toEqual([
      "the file holds no certificate",
      "the file holds no certificate",
    ]);
    expect(catalog.serving("a.example.com")).toBe(serving);
  });
});
