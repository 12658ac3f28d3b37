/**
 * Test certificates made at run time: a CA, and leaves signed by it for any
 * names, RSA-2048 or ECDSA P-256, with any validity (expired ones too).
 */
// @peculiar/x509 needs the Reflect metadata API loaded first.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

export type KeyKind = "ec" | "rsa";

export interface Pem {
  /** The leaf alone, PEM. */
  leaf: string;
  /** Leaf first, then the CA: what a server sends. */
  chain: string;
  key: string;
}

export interface TestCa {
  /** The CA certificate, PEM: give it to clients as their trust root. */
  readonly cert: string;
  /** A leaf for `names` (the first is its subject CN). */
  issue(names: string[], options?: IssueOptions): Promise<Pem>;
}

export interface IssueOptions {
  kind?: KeyKind;
  /** Default: an hour ago. */
  notBefore?: Date;
  /** Default: a year from now. */
  notAfter?: Date;
}

const HOUR = 3_600_000;
const YEAR = 365 * 24 * HOUR;

const ALGORITHMS: Record<KeyKind, RsaHashedKeyGenParams | EcKeyGenParams> = {
  ec: { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as EcKeyGenParams,
  rsa: {
    name: "RSASSA-PKCS1-v1_5",
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: "SHA-256",
  },
};

async function keys(kind: KeyKind): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(ALGORITHMS[kind], true, ["sign", "verify"]);
}

async function keyPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey("pkcs8", key);
  return x509.PemConverter.encode(der, "PRIVATE KEY");
}

let serial = 1;

export async function makeCa(name = "Mantrid Test CA"): Promise<TestCa> {
  const caKeys = await keys("ec");
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: (serial++).toString(16).padStart(2, "0"),
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - HOUR),
    notAfter: new Date(Date.now() + YEAR),
    keys: caKeys,
    signingAlgorithm: ALGORITHMS.ec,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
    ],
  });
  const caPem = ca.toString("pem");
  return {
    cert: caPem,
    async issue(names, options = {}) {
      const kind = options.kind ?? "ec";
      const leafKeys = await keys(kind);
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: (serial++).toString(16).padStart(2, "0"),
        subject: `CN=${names[0]}`,
        issuer: ca.subject,
        notBefore: options.notBefore ?? new Date(Date.now() - HOUR),
        notAfter: options.notAfter ?? new Date(Date.now() + YEAR),
        publicKey: leafKeys.publicKey,
        signingKey: caKeys.privateKey,
        signingAlgorithm: ALGORITHMS.ec,
        extensions: [
          new x509.BasicConstraintsExtension(false),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
          new x509.SubjectAlternativeNameExtension(
            names.map((value) => ({ type: "dns" as const, value })),
          ),
        ],
      });
      const leafPem = leaf.toString("pem");
      return {
        leaf: leafPem,
        chain: `${leafPem}\n${caPem}\n`,
        key: await keyPem(leafKeys.privateKey),
      };
    },
  };
}
