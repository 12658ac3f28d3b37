/**
 * The certificate of a handshake Mantrid refuses (a name it has no
 * certificate for, and no `tls_default`). Handing OpenSSL no certificate at
 * all ends the handshake with an `internal_error` alert; this one is paired
 * with signature algorithms its key cannot make, so the handshake stops at
 * that choice, before the server's hello, with a `handshake_failure` alert.
 * It is never sent. Made at start-up: a throwaway P-256 key, self-signed.
 */
import { generateKeyPairSync, sign } from "node:crypto";

export interface RefusalPem {
  cert: string;
  key: string;
  /** Only RSA-PSS, which an EC key cannot sign with. */
  sigalgs: string;
}

let made: RefusalPem | null = null;

export function refusalCertificate(): RefusalPem {
  made ??= make();
  return made;
}

function make(): RefusalPem {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const name = der(0x30, der(0x31, der(0x30, OID_COMMON_NAME, der(0x0c, ascii("refused")))));
  const tbs = der(
    0x30,
    der(0xa0, der(0x02, Buffer.from([2]))),
    der(0x02, Buffer.from([1])),
    ECDSA_SHA256,
    name,
    der(0x30, der(0x17, ascii("250101000000Z")), der(0x17, ascii("491231235959Z"))),
    name,
    publicKey.export({ type: "spki", format: "der" }),
  );
  const signature = sign("sha256", tbs, privateKey);
  const certificate = der(0x30, tbs, ECDSA_SHA256, der(0x03, Buffer.from([0]), signature));
  return {
    cert: pem("CERTIFICATE", certificate),
    key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    sigalgs: "RSA-PSS+SHA256",
  };
}

/** 2.5.4.3 */
const OID_COMMON_NAME = Buffer.from([0x06, 0x03, 0x55, 0x04, 0x03]);
/** 1.2.840.10045.4.3.2, in its AlgorithmIdentifier. */
const ECDSA_SHA256 = Buffer.from([
  0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
]);

function ascii(text: string): Buffer {
  return Buffer.from(text, "latin1");
}

/** One DER element: tag, length, contents (short enough for two length bytes). */
function der(tag: number, ...parts: Uint8Array[]): Buffer {
  const body = Buffer.concat(parts);
  const n = body.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}

function pem(label: string, bytes: Buffer): string {
  const lines = bytes
    .toString("base64")
    .match(/.{1,64}/g)!
    .join("\n");
  return `-----BEGIN ${label}-----\n${lines}\n-----END ${label}-----\n`;
}
