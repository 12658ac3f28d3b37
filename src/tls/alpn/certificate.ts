/**
 * The tls-alpn-01 certificate (RFC 8737 §3): self-signed, for the one name,
 * with the critical `acmeIdentifier` extension holding the SHA-256 digest of
 * the key authorization. acme-client makes one too, but with a CA's key
 * usage (certificate signing only), which BoringSSL refuses to serve.
 */
import { createHash } from "node:crypto";
import { der, extension, type SelfSignedPem, selfSigned } from "../self-signed.ts";

/** 2.5.29.17 */
const OID_SUBJECT_ALT_NAME = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x11]);
/** 1.3.6.1.5.5.7.1.31 */
const OID_ACME_IDENTIFIER = Buffer.from([
  0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x1f,
]);

export function alpnCertificate(name: string, keyAuthorization: string): SelfSignedPem {
  const digest = createHash("sha256").update(keyAuthorization).digest();
  // Valid from a day ago for two: the CA does not judge it by its dates, a clock may be off.
  const day = 86_400_000;
  return selfSigned({
    commonName: name,
    notBefore: utcTime(Date.now() - day),
    notAfter: utcTime(Date.now() + day),
    extensions: [
      extension(OID_SUBJECT_ALT_NAME, false, der(0x30, der(0x82, Buffer.from(name, "ascii")))),
      extension(OID_ACME_IDENTIFIER, true, der(0x04, digest)),
    ],
  });
}

/** `YYMMDDHHMMSSZ` */
function utcTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(2, 19).replace(/[-T:]/g, "")}Z`;
}
