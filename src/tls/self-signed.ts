/**
 * Self-signed certificates made at once, without a CA or an async X.509
 * library: a throwaway ECDSA P-256 key, a v3 certificate naming one CN with
 * the extensions given, signed with ECDSA-SHA256. For certificates that are
 * never trusted by a browser: the refusal's and tls-alpn-01's.
 */
import { generateKeyPairSync, sign } from "node:crypto";

export interface SelfSignedPem {
  readonly cert: string;
  readonly key: string;
}

export interface SelfSignedSpec {
  readonly commonName: string;
  /** Each a DER `Extension` (see `extension`). */
  readonly extensions?: readonly Uint8Array[];
  /** UTCTime text, `YYMMDDHHMMSSZ`. */
  readonly notBefore: string;
  readonly notAfter: string;
}

export function selfSigned(spec: SelfSignedSpec): SelfSignedPem {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const name = der(0x30, der(0x31, der(0x30, OID_COMMON_NAME, der(0x0c, utf8(spec.commonName)))));
  const extensions = spec.extensions ?? [];
  const tbs = der(
    0x30,
    der(0xa0, der(0x02, Buffer.from([2]))),
    der(0x02, Buffer.from([1])),
    ECDSA_SHA256,
    name,
    der(0x30, der(0x17, utf8(spec.notBefore)), der(0x17, utf8(spec.notAfter))),
    name,
    publicKey.export({ type: "spki", format: "der" }),
    ...(extensions.length === 0 ? [] : [der(0xa3, der(0x30, ...extensions))]),
  );
  const signature = sign("sha256", tbs, privateKey);
  const certificate = der(0x30, tbs, ECDSA_SHA256, der(0x03, Buffer.from([0]), signature));
  return {
    cert: pem("CERTIFICATE", certificate),
    key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

/** An X.509 `Extension`: its OID (DER, tag included), criticality, and its value's DER. */
export function extension(oid: Uint8Array, critical: boolean, value: Uint8Array): Buffer {
  const flag = critical ? [Buffer.from([0x01, 0x01, 0xff])] : [];
  return der(0x30, oid, ...flag, der(0x04, value));
}

/** 2.5.4.3 */
const OID_COMMON_NAME = Buffer.from([0x06, 0x03, 0x55, 0x04, 0x03]);
/** 1.2.840.10045.4.3.2, in its AlgorithmIdentifier. */
const ECDSA_SHA256 = Buffer.from([
  0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
]);

function utf8(text: string): Buffer {
  return Buffer.from(text, "utf8");
}

/** One DER element: tag, length, contents (short enough for two length bytes). */
export function der(tag: number, ...parts: Uint8Array[]): Buffer {
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
