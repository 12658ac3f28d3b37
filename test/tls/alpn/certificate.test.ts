/** The tls-alpn-01 certificate, read back by X.509 parsers that did not make it. */
import { expect, test } from "bun:test";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { createSecureContext } from "node:tls";
import * as acme from "acme-client";
import { alpnCertificate } from "../../../src/tls/alpn/certificate.ts";

const NAME = "shop.example.test";
const KEY_AUTHORIZATION =
  "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.nP1qzpXGymHBrUEepNY9HCsQk7K8KhOypzEt62jcerQ";

test("it names the one name, proves the key authorization, and is served by TLS", () => {
  const made = alpnCertificate(NAME, KEY_AUTHORIZATION);
  const cert = new X509Certificate(made.cert);
  expect(cert.subject).toBe(`CN=${NAME}`);
  expect(cert.subjectAltName).toBe(`DNS:${NAME}`);
  expect(cert.checkIssued(cert)).toBe(true);
  expect(cert.verify(cert.publicKey)).toBe(true);
  expect(cert.checkPrivateKey(createPrivateKey(made.key))).toBe(true);
  expect(acme.crypto.isAlpnCertificateAuthorizationValid(made.cert, KEY_AUTHORIZATION)).toBe(true);
  expect(acme.crypto.isAlpnCertificateAuthorizationValid(made.cert, `${KEY_AUTHORIZATION}x`)).toBe(
    false,
  );
  // Valid now, whatever the CA's clock says within a day.
  expect(Date.parse(cert.validFrom)).toBeLessThan(Date.now());
  expect(Date.parse(cert.validTo)).toBeGreaterThan(Date.now());
  expect(() => createSecureContext(made)).not.toThrow();
});

test("openssl reads the SAN and the acmeIdentifier extension, critical", async () => {
  const made = alpnCertificate(NAME, KEY_AUTHORIZATION);
  const child = Bun.spawn(["openssl", "x509", "-noout", "-text"], {
    stdin: "pipe",
    stdout: "pipe",
  });
  child.stdin.write(made.cert);
  await child.stdin.end();
  const text = await new Response(child.stdout).text();
  expect(await child.exited).toBe(0);
  expect(text).toMatch(/1\.3\.6\.1\.5\.5\.7\.1\.31: critical/);
  expect(text).toContain(`DNS:${NAME}`);
});

test("each is made with its own key", () => {
  const one = alpnCertificate(NAME, KEY_AUTHORIZATION);
  const two = alpnCertificate(NAME, KEY_AUTHORIZATION);
  expect(one.key).not.toBe(two.key);
});
