/** Which context a handshake gets for the name it asks for, and when contexts are built. */
import { beforeAll, describe, expect, test } from "bun:test";
import "../support/quiet.ts";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { CertificateCatalog } from "../../src/tls/catalog.ts";
import type { Certificate } from "../../src/tls/certificate.ts";
import { CertificateMirror } from "../../src/tls/mirror.ts";
import { refusalCertificate } from "../../src/tls/refusal.ts";
import { SniContexts, wildcardOf } from "../../src/tls/sni.ts";
import { makeCa, type TestCa } from "../support/certificates.ts";
import { stderrOf } from "../support/stderr.ts";
import { catalogEntry } from "./harness.ts";

const SETTINGS = { minVersion: "TLSv1.2", ciphers: null } as const;

let ca: TestCa;
beforeAll(async () => {
  ca = await makeCa();
});

async function certificate(
  name: string,
  source: Certificate["source"] = "api",
): Promise<Certificate> {
  return catalogEntry(name, await ca.issue([name]), source);
}

describe("lookup", () => {
  test("the exact name, in any case, with or without a trailing dot", async () => {
    const sni = new SniContexts(SETTINGS, null);
    sni.put("a.test", await certificate("a.test"));
    const context = sni.select("a.test");
    expect(sni.select("A.TEST")).toBe(context);
    expect(sni.select("a.test.")).toBe(context);
  });

  test("a wildcard one label up: not two labels, not its own name", async () => {
    const sni = new SniContexts(SETTINGS, null);
    sni.put("*.example.test", await certificate("*.example.test"));
    const refused = sni.select("unknown.test");
    const wildcard = sni.select("a.example.test");
    expect(wildcard).not.toBe(refused);
    expect(sni.select("B.example.test")).toBe(wildcard);
    expect(sni.select("a.b.example.test")).toBe(refused);
    expect(sni.select("example.test")).toBe(refused);
  });

  test("an exact name is preferred to the wildcard above it", async () => {
    const sni = new SniContexts(SETTINGS, null);
    sni.put("*.example.test", await certificate("*.example.test"));
    sni.put("www.example.test", await certificate("www.example.test"));
    expect(sni.select("www.example.test")).not.toBe(sni.select("mail.example.test"));
  });

  test("tls_default stands in for any unknown name; without it, the refusal", async () => {
    const sni = new SniContexts(SETTINGS, "Fallback.test");
    const refused = sni.select("unknown.test");
    sni.put("fallback.test", await certificate("fallback.test"));
    const fallback = sni.select("fallback.test");
    expect(sni.select("unknown.test")).toBe(fallback);
    expect(fallback).not.toBe(refused);
    sni.put("fallback.test", null);
    expect(sni.select("unknown.test")).not.toBe(fallback);
  });

  test("wildcardOf", () => {
    expect(wildcardOf("a.example.test")).toBe("*.example.test");
    expect(wildcardOf("test")).toBeNull();
    expect(wildcardOf("test.")).toBeNull();
  });
});

describe("contexts follow the certificates", () => {
  test("built once per change: the same context until the name's certificate changes", async () => {
    const sni = new SniContexts(SETTINGS, null);
    sni.put("a.test", await certificate("a.test"));
    const first = sni.select("a.test");
    expect(sni.select("a.test")).toBe(first);
    sni.put("a.test", await certificate("a.test"));
    const second = sni.select("a.test");
    expect(second).not.toBe(first);
    expect(sni.select("a.test")).toBe(second);
  });

  test("it follows a catalog: the serving source, and removals", async () => {
    const catalog = new CertificateCatalog();
    catalog.put(await certificate("a.test", "dir"));
    const sni = new SniContexts(SETTINGS, null);
    const unfollow = sni.follow(catalog);
    const refused = sni.select("nobody.test");
    const fromDir = sni.select("a.test");
    expect(fromDir).not.toBe(refused);
    catalog.put(await certificate("a.test", "api"));
    const fromApi = sni.select("a.test");
    expect(fromApi).not.toBe(fromDir);
    catalog.remove("a.test", "api");
    expect(sni.select("a.test")).not.toBe(fromApi);
    catalog.remove("a.test", "dir");
    expect(sni.select("a.test")).toBe(refused);
    unfollow();
    catalog.put(await certificate("a.test", "api"));
    expect(sni.select("a.test")).toBe(refused);
  });

  test("a worker's mirror feeds it the same way", async () => {
    const mirror = new CertificateMirror();
    mirror.set("a.test", await certificate("a.test"));
    const sni = new SniContexts(SETTINGS, null);
    sni.follow(mirror);
    const refused = sni.select("nobody.test");
    expect(sni.select("a.test")).not.toBe(refused);
    mirror.set("a.test", null);
    expect(sni.select("a.test")).toBe(refused);
    expect(mirror.all()).toEqual([]);
  });

  test("the listeners hear of a changed default, and of no other name", async () => {
    const sni = new SniContexts(SETTINGS, "fallback.test");
    let heard = 0;
    sni.onDefaultChange(() => heard++);
    sni.put("other.test", await certificate("other.test"));
    expect(heard).toBe(0);
    expect(sni.listenerOptions().sigalgs).toBe(refusalCertificate().sigalgs);
    sni.put("fallback.test", await certificate("fallback.test"));
    expect(heard).toBe(1);
    expect(sni.listenerOptions().sigalgs).toBeUndefined();
  });

  test("a certificate that does not load is refused, once, and the others serve", async () => {
    const sni = new SniContexts(SETTINGS, null);
    const good = await certificate("good.test");
    const bad = await certificate("bad.test");
    sni.put("bad.test", { ...bad, key: good.key });
    sni.put("good.test", good);
    const refused = sni.select("nobody.test");
    const logged = stderrOf(() => {
      expect(sni.select("bad.test")).toBe(refused);
      expect(sni.select("bad.test")).toBe(refused);
    });
    expect(logged.match(/certificate bad\.test cannot be served/g)).toHaveLength(1);
    expect(sni.select("good.test")).not.toBe(refused);
  });

  test("10,000 certificates: a lookup builds only the one context it needs", async () => {
    const sni = new SniContexts(SETTINGS, null);
    const one = await certificate("n0.test");
    for (let i = 0; i < 10_000; i++) sni.put(`n${i}.test`, { ...one, name: `n${i}.test` });
    expect(sni.size).toBe(10_000);
    const context = sni.select("n9999.test");
    expect(sni.select("N9999.test")).toBe(context);
    expect(sni.select("n5000.test")).not.toBe(context);
  });
});

test("the refusal certificate is a well-formed self-signed certificate for its key", () => {
  const refusal = refusalCertificate();
  const certificate = new X509Certificate(refusal.cert);
  expect(certificate.subject).toBe("CN=refused");
  expect(certificate.checkPrivateKey(createPrivateKey(refusal.key))).toBe(true);
  expect(certificate.verify(certificate.publicKey)).toBe(true);
});
