/**
 * The API's and ACME's certificates on disk: 0600 files in 0700 folders,
 * loaded back by a new store, a file that no longer parses skipped with one
 * log line, and a change that could not be saved never served.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BATCH } from "../../src/tls/batches.ts";
import { CertificateCatalog } from "../../src/tls/catalog.ts";
import type { Certificate } from "../../src/tls/certificate.ts";
import { KeptCertificates } from "../../src/tls/kept.ts";
import { certificateFileText, parseCertificate } from "../../src/tls/parse.ts";
import { CertificateStore } from "../../src/tls/store.ts";
import { makeCa, type TestCa } from "../support/certificates.ts";
import { keyBody, leakedLine } from "../support/key-body.ts";
import { catchServerLog } from "../support/stderr.ts";

let ca: TestCa;
let root: string;
let folder: string;

beforeAll(async () => {
  ca = await makeCa();
});
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "mantrid-certstore-"));
  folder = join(root, "certificates");
});
afterEach(() => rm(root, { recursive: true, force: true }));

const logged = catchServerLog();

async function certificate(
  name: string,
  source: "api" | "acme" = "api",
  names = [name],
): Promise<Certificate> {
  const pem = await ca.issue(names);
  return parseCertificate(name, pem.chain, pem.key, source, Date.now());
}

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

describe("on disk", () => {
  test("folders are 0700 and files 0600, a wildcard's name spelled without *", async () => {
    const store = await CertificateStore.open(folder);
    await store.save(await certificate("*.example.com"));
    expect(await modeOf(folder)).toBe(0o700);
    expect(await modeOf(join(folder, "api"))).toBe(0o700);
    expect(await readdir(join(folder, "api"))).toEqual(["_wildcard.example.com.pem"]);
    expect(await modeOf(join(folder, "api", "_wildcard.example.com.pem"))).toBe(0o600);
  });

  test("a folder made looser by hand is tightened at open", async () => {
    await mkdir(join(folder, "api"), { recursive: true });
    await chmod(folder, 0o755);
    await chmod(join(folder, "api"), 0o777);
    await CertificateStore.open(folder);
    expect(await modeOf(folder)).toBe(0o700);
    expect(await modeOf(join(folder, "api"))).toBe(0o700);
  });

  test("the file holds the chain, then the key", async () => {
    const store = await CertificateStore.open(folder);
    const saved = await certificate("example.com");
    await store.save(saved);
    const text = await readFile(store.pathOf("api", "example.com"), "utf8");
    expect(text).toBe(`${saved.cert}${saved.key}`);
  });
});

describe("across a restart", () => {
  test("a new store loads what the old one saved, the API's and ACME's apart", async () => {
    const first = await CertificateStore.open(folder);
    const api = await certificate("example.com", "api");
    const acme = await certificate("example.com", "acme");
    const wild = await certificate("*.example.com", "acme");
    await Promise.all([first.save(api), first.save(acme), first.save(wild)]);

    const loaded = await (await CertificateStore.open(folder)).load();
    const byKey = (list: Certificate[]) =>
      list.map((one) => `${one.source} ${one.name} ${one.notAfter}`).sort();
    expect(byKey(loaded)).toEqual(byKey([api, acme, wild]));
    const again = loaded.find((one) => one.source === "acme" && one.name === "example.com")!;
    expect(again.cert).toBe(acme.cert);
    expect(again.key).toBe(acme.key);
  });

  test("a removed certificate stays removed; removing it twice says there was none", async () => {
    const store = await CertificateStore.open(folder);
    await store.save(await certificate("example.com"));
    await store.save(await certificate("other.example.com"));
    expect(await store.remove("api", "example.com")).toBe(true);
    expect(await store.remove("api", "example.com")).toBe(false);
    expect(await store.remove("acme", "other.example.com")).toBe(false);
    const loaded = await (await CertificateStore.open(folder)).load();
    expect(loaded.map((one) => one.name)).toEqual(["other.example.com"]);
  });

  test("writes of one name, all at once, end with the last one", async () => {
    const store = await CertificateStore.open(folder);
    const versions = await Promise.all([1, 2, 3, 4].map(() => certificate("example.com")));
    await Promise.all(versions.map((one) => store.save(one)));
    const [loaded] = await store.load();
    expect(loaded!.cert).toBe(versions[3]!.cert);
    expect((await readdir(join(folder, "api"))).length).toBe(1);
  });

  test("a file that no longer parses is skipped with one line naming it; the rest load", async () => {
    const store = await CertificateStore.open(folder);
    const kept = await certificate("good.example.com");
    await store.save(kept);
    const broken = await certificate("broken.example.com");
    await writeFile(
      store.pathOf("api", "broken.example.com"),
      `${broken.cert}${broken.key.slice(0, 100)}`,
    );
    const expired = await ca.issue(["old.example.com"], {
      notBefore: new Date("2020-01-01T00:00:00Z"),
      notAfter: new Date("2021-01-01T00:00:00Z"),
    });
    await writeFile(store.pathOf("acme", "old.example.com"), `${expired.chain}${expired.key}`);
    logged.length = 0;

    const loaded = await (await CertificateStore.open(folder)).load();
    expect(loaded.map((one) => one.name)).toEqual(["good.example.com"]);
    const lines = logged.join("");
    expect(logged.length).toBe(2);
    expect(lines).toContain(
      `${store.pathOf("api", "broken.example.com")} skipped: a PEM block has no END line`,
    );
    expect(lines).toContain(
      `${store.pathOf("acme", "old.example.com")} skipped: the leaf expired on 2021-01-01T00:00:00.000Z`,
    );
    expect(leakedLine(lines, [...keyBody(broken.key), ...keyBody(expired.key)])).toBeUndefined();
  });
});

describe("many at a restart", () => {
  test("more files than one batch of reads all load; one readable by others is made 0600", async () => {
    const store = await CertificateStore.open(folder);
    const names = Array.from({ length: BATCH + 6 }, (_, i) => `n${i}.example.com`);
    const saved = await Promise.all(names.map((name) => certificate(name, "acme")));
    // Written as a person would put them there: in place, not through the store.
    await Promise.all(
      saved.map((one) => writeFile(store.pathOf("acme", one.name), certificateFileText(one))),
    );
    const loose = store.pathOf("acme", names[BATCH + 1]!);
    await chmod(loose, 0o644);

    const loaded = await (await CertificateStore.open(folder)).load();
    expect(loaded.map((one) => one.name).sort()).toEqual([...names].sort());
    for (const one of loaded) {
      expect(one.cert).toBe(saved.find((s) => s.name === one.name)!.cert);
    }
    expect(await modeOf(loose)).toBe(0o600);
    expect(logged).toEqual([]);
  });
});

describe("files of one's own (the ACME account key)", () => {
  test("written 0600, read back, absent ones are null, odd names refused", async () => {
    const store = await CertificateStore.open(folder);
    expect(await store.readExtra("account.json")).toBeNull();
    await store.writeExtra("account.json", '{"key":"..."}');
    expect(await (await CertificateStore.open(folder)).readExtra("account.json")).toBe(
      '{"key":"..."}',
    );
    expect(await modeOf(join(folder, "extra", "account.json"))).toBe(0o600);
    expect(() => store.writeExtra("../state.json", "x")).toThrow("is no name for a file");
    // Not certificates: never loaded as such.
    expect(await store.load()).toEqual([]);
  });
});

describe("kept: stored, then served", () => {
  test("put serves once stored; remove stops serving and deletes the file", async () => {
    const catalog = new CertificateCatalog();
    const kept = new KeptCertificates(await CertificateStore.open(folder), catalog);
    const one = await certificate("example.com");
    await kept.put(one);
    expect(catalog.serving("example.com")).toBe(one);
    expect(await kept.remove("example.com", "api")).toBe(one);
    expect(catalog.serving("example.com")).toBeNull();
    expect(await kept.remove("example.com", "api")).toBeNull();
    expect(await readdir(join(folder, "api"))).toEqual([]);
  });

  test("a certificate that could not be saved never serves", async () => {
    const catalog = new CertificateCatalog();
    const kept = new KeptCertificates(await CertificateStore.open(folder), catalog);
    // The folder replaced by a file: every write into it fails, even as root.
    await rm(join(folder, "api"), { recursive: true });
    await writeFile(join(folder, "api"), "");
    await expect(kept.put(await certificate("example.com"))).rejects.toThrow();
    expect(catalog.all()).toEqual([]);
  });

  test("load serves what the store holds", async () => {
    const store = await CertificateStore.open(folder);
    await store.save(await certificate("example.com", "acme"));
    const catalog = new CertificateCatalog();
    expect(await new KeptCertificates(store, catalog).load()).toBe(1);
    expect(catalog.serving("example.com")?.source).toBe("acme");
  });
});
