/** A chain and key are checked before they serve; each refusal says what is wrong and quotes no key. */
import { beforeAll, describe, expect, test } from "bun:test";
import { createPrivateKey } from "node:crypto";
import { CertificateError, parseCertificate, parseCertificateFile } from "../../src/tls/parse.ts";
import { makeCa, type Pem, type TestCa } from "../support/certificates.ts";
import { keyBody } from "../support/key-body.ts";

const DAY = 86_400_000;
let ca: TestCa;
let other: TestCa;
let rsa: Pem;
let ec: Pem;
let wildcard: Pem;

beforeAll(async () => {
  ca = await makeCa();
  other = await makeCa("Another CA");
  rsa = await ca.issue(["www.example.com", "example.com"], { kind: "rsa" });
  ec = await ca.issue(["shop.example.com"]);
  wildcard = await ca.issue(["*.example.com"]);
});

/** The refusal's field and message; fails the test when the input was taken. */
function refusal(name: string, cert: string, key: string, now = Date.now()): [string, string] {
  try {
    parseCertificate(name, cert, key, "api", now);
  } catch (error) {
    if (!(error instanceof CertificateError)) throw error;
    return [error.field, error.message];
  }
  throw new Error("the certificate was accepted");
}

describe("accepted", () => {
  test("an RSA leaf with its CA: names, issuer, validity, the chain leaf first", () => {
    const now = Date.now();
    const parsed = parseCertificate("WWW.Example.com.", rsa.chain, rsa.key, "api", now);
    expect(parsed.name).toBe("www.example.com");
    expect(parsed.source).toBe("api");
    expect(parsed.names).toEqual(["www.example.com", "example.com"]);
    expect(parsed.issuer).toBe("CN=Mantrid Test CA");
    expect(parsed.notBefore).toBeLessThan(now);
    expect(parsed.notAfter).toBeGreaterThan(now + 300 * DAY);
    expect(parsed.cert).toBe(`${rsa.leaf.trim()}\n${ca.cert.trim()}\n`);
    expect(parsed.key).toBe(`${rsa.key.trim()}\n`);
  });

  test("an ECDSA leaf alone, without its CA", () => {
    expect(parseCertificate("shop.example.com", ec.leaf, ec.key, "dir", Date.now()).source).toBe(
      "dir",
    );
  });

  test("a wildcard name with a wildcard leaf; a hostname one label under it too", () => {
    expect(
      parseCertificate("*.example.com", wildcard.chain, wildcard.key, "api", Date.now()).name,
    ).toBe("*.example.com");
    expect(
      parseCertificate("a.example.com", wildcard.chain, wildcard.key, "api", Date.now()).name,
    ).toBe("a.example.com");
  });

  test("a file of the chain then the key, with text around the blocks", () => {
    const text = `subject=CN = shop.example.com\n${ec.chain}\n# the key\n${ec.key}`;
    expect(parseCertificateFile("shop.example.com", text, "dir", Date.now()).names).toEqual([
      "shop.example.com",
    ]);
  });
});

describe("refused", () => {
  test("a name that is no hostname, or with a protocol, or a misplaced *", () => {
    expect(refusal("http://www.example.com", rsa.chain, rsa.key)).toEqual([
      "name",
      "a certificate name is a hostname or *.example.com, without a protocol",
    ]);
    expect(refusal("a.*.example.com", rsa.chain, rsa.key)).toEqual([
      "name",
      "a certificate name may hold * only as its whole first label, as in *.example.com",
    ]);
    expect(refusal("under_score.com", rsa.chain, rsa.key)[0]).toBe("name");
    expect(refusal("", rsa.chain, rsa.key)[0]).toBe("name");
  });

  test("an empty chain or key", () => {
    expect(refusal("example.com", "", rsa.key)).toEqual(["cert", "the chain is empty"]);
    expect(refusal("example.com", rsa.chain, " \n")).toEqual(["key", "the key is empty"]);
  });

  test("garbage in place of PEM", () => {
    expect(refusal("example.com", "not a certificate", rsa.key)).toEqual([
      "cert",
      "the chain holds no PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)",
    ]);
    expect(refusal("example.com", rsa.chain, "not a key")).toEqual([
      "key",
      "the key holds no PEM private key (-----BEGIN PRIVATE KEY-----)",
    ]);
    expect(refusal("example.com", rsa.chain, ca.cert)).toEqual([
      "key",
      "the key holds no PEM private key (-----BEGIN PRIVATE KEY-----), only CERTIFICATE",
    ]);
  });

  test("PEM whose body does not decode", () => {
    const badCert = rsa.leaf.replace(/\n[A-Za-z0-9+/]{20}/, "\n!!!!!!!!!!!!!!!!!!!!");
    expect(refusal("example.com", badCert, rsa.key)).toEqual([
      "cert",
      "block 1 of the chain does not decode as an X.509 certificate",
    ]);
    const badKey = rsa.key.replace(/\n[A-Za-z0-9+/]{20}/, "\nAAAAAAAAAAAAAAAAAAAA");
    expect(refusal("example.com", rsa.chain, badKey)).toEqual([
      "key",
      "the PRIVATE KEY block does not decode as a private key",
    ]);
  });

  test("a block cut short, as a file being written is", () => {
    const cut = rsa.chain.slice(0, rsa.chain.length - 40);
    expect(refusal("example.com", cut, rsa.key)).toEqual([
      "cert",
      "the chain has a PEM block with no END line",
    ]);
    expect(refusal("example.com", rsa.chain, rsa.key.slice(0, 100))).toEqual([
      "key",
      "the key has a PEM block with no END line",
    ]);
    expect(() => parseCertificateFile("example.com", rsa.chain, "dir", Date.now())).toThrow(
      "the file holds no private key",
    );
    expect(() => parseCertificateFile("example.com", rsa.key, "dir", Date.now())).toThrow(
      "the file holds no certificate",
    );
    expect(() =>
      parseCertificateFile(
        "example.com",
        `${rsa.chain}${rsa.key.slice(0, 100)}`,
        "dir",
        Date.now(),
      ),
    ).toThrow("a PEM block has no END line");
  });

  test("a key in the chain, two keys, an encrypted key", () => {
    expect(refusal("example.com", `${rsa.chain}${rsa.key}`, rsa.key)).toEqual([
      "cert",
      "block 3 of the chain is a private key; the key goes apart, in key",
    ]);
    expect(refusal("example.com", rsa.chain, `${rsa.key}${ec.key}`)).toEqual([
      "key",
      "the key holds 2 private keys; give the leaf's alone",
    ]);
    const encrypted = rsa.key.replace(/PRIVATE KEY/g, "ENCRYPTED PRIVATE KEY");
    expect(refusal("example.com", rsa.chain, encrypted)).toEqual([
      "key",
      "the key is encrypted; give it without a passphrase",
    ]);
  });

  test("a key that is not the leaf's", () => {
    expect(refusal("example.com", rsa.chain, ec.key)).toEqual([
      "key",
      "the key does not match the leaf (CN=www.example.com)",
    ]);
  });

  test("an expired leaf names the day it expired; a leaf not yet valid, its first day", async () => {
    const expired = await ca.issue(["old.example.com"], {
      notBefore: new Date("2020-01-01T00:00:00Z"),
      notAfter: new Date("2021-06-30T12:00:00Z"),
    });
    expect(refusal("old.example.com", expired.chain, expired.key)).toEqual([
      "cert",
      "the leaf expired on 2021-06-30T12:00:00.000Z",
    ]);
    const future = Date.now() + 10 * DAY;
    const early = await ca.issue(["new.example.com"], { notBefore: new Date(future) });
    expect(refusal("new.example.com", early.chain, early.key)).toEqual([
      "cert",
      `the leaf is not valid before ${new Date(Math.floor(future / 1000) * 1000).toISOString()}`,
    ]);
  });

  test("a chain in the wrong order, or whose issuer did not sign it", async () => {
    expect(refusal("example.com", `${ca.cert}\n${rsa.leaf}`, rsa.key)).toEqual([
      "cert",
      "the chain is out of order: certificate 2 (CN=www.example.com) did not issue certificate 1 " +
        "(CN=Mantrid Test CA); give the leaf first, then each issuer",
    ]);
    expect(refusal("example.com", `${rsa.leaf}\n${other.cert}`, rsa.key)[1]).toStartWith(
      "the chain is out of order: certificate 2 (CN=Another CA) did not issue certificate 1",
    );
    // Same name as our CA, another key: the names match, the signature does not.
    const impostor = await makeCa("Mantrid Test CA");
    expect(refusal("example.com", `${rsa.leaf}\n${impostor.cert}`, rsa.key)).toEqual([
      "cert",
      "certificate 1 of the chain (CN=www.example.com) names certificate 2 (CN=Mantrid Test CA) " +
        "as its issuer, but its signature is not that issuer's",
    ]);
  });

  test("an issuer taken before for other leaves still has each new leaf's signature checked", async () => {
    const impostor = await makeCa("Mantrid Test CA");
    // Thousands of leaves may share an issuer: it is decoded once, never trusted once.
    for (const names of [["a.example.com"], ["b.example.com"]]) {
      const own = await impostor.issue(names);
      const chain = `${own.leaf}\n${impostor.cert}`;
      expect(parseCertificate(names[0]!, chain, own.key, "dir", Date.now()).cert).toBe(
        `${own.leaf.trim()}\n${impostor.cert.trim()}\n`,
      );
    }
    expect(refusal("example.com", `${rsa.leaf}\n${impostor.cert}`, rsa.key)[1]).toEndWith(
      "as its issuer, but its signature is not that issuer's",
    );
    expect(parseCertificate("example.com", rsa.chain, rsa.key, "dir", Date.now()).names).toEqual([
      "www.example.com",
      "example.com",
    ]);
  });

  test("a name the leaf does not cover; a wildcard name needs a wildcard SAN", () => {
    expect(refusal("api.example.com", rsa.chain, rsa.key)).toEqual([
      "cert",
      "the leaf's names (www.example.com, example.com) do not cover api.example.com",
    ]);
    expect(refusal("*.example.com", rsa.chain, rsa.key)).toEqual([
      "cert",
      "the leaf's names (www.example.com, example.com) do not cover *.example.com " +
        "(a wildcard name needs that wildcard among them)",
    ]);
    // One label only: a.b.example.com is not under *.example.com.
    expect(refusal("a.b.example.com", wildcard.chain, wildcard.key)[1]).toBe(
      "the leaf's names (*.example.com) do not cover a.b.example.com",
    );
    expect(refusal("example.com", wildcard.chain, wildcard.key)[0]).toBe("cert");
  });

  test("no refusal quotes the key", async () => {
    const expired = await ca.issue(["old.example.com"], {
      notBefore: new Date("2020-01-01T00:00:00Z"),
      notAfter: new Date("2021-01-01T00:00:00Z"),
    });
    const cases: [string, string, string][] = [
      ["example.com", rsa.chain, ec.key],
      ["example.com", rsa.chain, rsa.key.slice(0, 200)],
      ["example.com", rsa.chain, rsa.key.replace(/\n[A-Za-z0-9+/]{20}/, "\n####################")],
      ["example.com", `${rsa.chain}${rsa.key}`, rsa.key],
      ["old.example.com", expired.chain, expired.key],
      ["nope.example.com", rsa.chain, rsa.key],
      ["example.com", rsa.key, rsa.key],
    ];
    for (const [name, cert, key] of cases) {
      const [, message] = refusal(name, cert, key);
      for (const secret of [rsa.key, ec.key, expired.key]) {
        for (const line of keyBody(secret)) expect(message).not.toContain(line);
      }
    }
  });
});

test("keys as PKCS#1 (RSA) and SEC1 (EC) PEM are read as PKCS#8 is", () => {
  const pkcs1 = createPrivateKey(rsa.key).export({ type: "pkcs1", format: "pem" }) as string;
  const sec1 = createPrivateKey(ec.key).export({ type: "sec1", format: "pem" }) as string;
  expect(pkcs1).toStartWith("-----BEGIN RSA PRIVATE KEY-----");
  expect(sec1).toStartWith("-----BEGIN EC PRIVATE KEY-----");
  expect(parseCertificate("example.com", rsa.chain, pkcs1, "api", Date.now()).key).toBe(pkcs1);
  expect(parseCertificate("shop.example.com", ec.chain, sec1, "api", Date.now()).key).toBe(sec1);
});
