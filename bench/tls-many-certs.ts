/**
 * Thousands of certificates in seconds, for the many-certificate listener of
 * `--tls`. Building each with @peculiar/x509 costs several milliseconds (its
 * ASN.1 work, not the signature), so one leaf is built and the others are
 * made from its DER: names of one length take the template name's place, the
 * serial number is rewritten, and the to-be-signed part is signed again by
 * the CA (ECDSA P-256 throughout; the leaves share one key). Each name gets
 * `<folder>/<name>.pem`: leaf, CA, key.
 */
import "reflect-metadata";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as x509 from "@peculiar/x509";

const EC = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as EcKeyGenParams;
const SIGN = { name: "ECDSA", hash: "SHA-256" };
const HOUR = 3_600_000;

/** DER: a tag, its length, then `body`. */
function der(tag: number, body: Uint8Array): Uint8Array {
  const n = body.length;
  const head = n < 0x80 ? [tag, n] : n < 0x100 ? [tag, 0x81, n] : [tag, 0x82, n >> 8, n & 0xff];
  const out = new Uint8Array(head.length + n);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/** Where the element at `at` ends, and where its content starts. */
function element(bytes: Uint8Array, at: number): { start: number; end: number } {
  const first = bytes[at + 1]!;
  if (first < 0x80) return { start: at + 2, end: at + 2 + first };
  const count = first & 0x7f;
  let length = 0;
  for (let i = 0; i < count; i++) length = (length << 8) | bytes[at + 2 + i]!;
  const start = at + 2 + count;
  return { start, end: start + length };
}

/** A raw `r || s` ECDSA signature as DER (SEQUENCE of two INTEGERs). */
function signatureDer(raw: Uint8Array): Uint8Array {
  const integer = (part: Uint8Array) => {
    let from = 0;
    while (from < part.length - 1 && part[from] === 0) from++;
    const trimmed = part.subarray(from);
    return der(0x02, trimmed[0]! & 0x80 ? new Uint8Array([0, ...trimmed]) : trimmed);
  };
  const r = integer(raw.subarray(0, 32));
  const s = integer(raw.subarray(32));
  return der(0x30, new Uint8Array([...r, ...s]));
}

function replaceAll(bytes: Uint8Array, from: Uint8Array, to: Uint8Array): number {
  let count = 0;
  for (let i = 0; i + from.length <= bytes.length; i++) {
    let same = true;
    for (let j = 0; j < from.length && same; j++) same = bytes[i + j] === from[j];
    if (!same) continue;
    bytes.set(to, i);
    count++;
  }
  return count;
}

/** Writes one certificate per name; every name must have the length of the first. */
export async function writeManyCertificates(folder: string, names: string[]): Promise<void> {
  const template = names[0]!;
  const caKeys = await crypto.subtle.generateKey(EC, true, ["sign", "verify"]);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: "CN=Mantrid Bench Many CA",
    notBefore: new Date(Date.now() - HOUR),
    notAfter: new Date(Date.now() + 24 * HOUR),
    keys: caKeys,
    signingAlgorithm: EC,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
  });
  const leafKeys = await crypto.subtle.generateKey(EC, true, ["sign", "verify"]);
  const leaf = await x509.X509CertificateGenerator.create({
    // Eight bytes, the first below 0x80: room for any index, never negative.
    serialNumber: "1000000000000000",
    subject: `CN=${template}`,
    issuer: ca.subject,
    notBefore: new Date(Date.now() - HOUR),
    notAfter: new Date(Date.now() + 24 * HOUR),
    publicKey: leafKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: EC,
    extensions: [
      new x509.BasicConstraintsExtension(false),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: "dns", value: template }]),
    ],
  });
  const cert = new Uint8Array(leaf.rawData);
  const outer = element(cert, 0);
  const tbsAt = outer.start;
  const tbsEnd = element(cert, tbsAt).end;
  const algorithmEnd = element(cert, tbsEnd).end;
  const tbs = cert.slice(tbsAt, tbsEnd);
  const algorithm = cert.slice(tbsEnd, algorithmEnd);
  // TBS: SEQUENCE { [0] version, INTEGER serial, ... }
  const version = element(tbs, element(tbs, 0).start);
  const serial = element(tbs, version.end);
  const encoder = new TextEncoder();
  const templateBytes = encoder.encode(template);
  const keyPem = x509.PemConverter.encode(
    await crypto.subtle.exportKey("pkcs8", leafKeys.privateKey),
    "PRIVATE KEY",
  );
  const caPem = ca.toString("pem");

  for (const [index, name] of names.entries()) {
    if (name.length !== template.length) throw new Error(`${name}: not as long as ${template}`);
    const body = tbs.slice();
    if (replaceAll(body, templateBytes, encoder.encode(name)) !== 2) {
      throw new Error(`the template certificate does not name ${template} twice`);
    }
    const view = new DataView(body.buffer, serial.start, serial.end - serial.start);
    view.setUint32(view.byteLength - 4, index);
    const raw = new Uint8Array(await crypto.subtle.sign(SIGN, caKeys.privateKey, body));
    const signature = der(0x03, new Uint8Array([0, ...signatureDer(raw)]));
    const whole = der(0x30, new Uint8Array([...body, ...algorithm, ...signature]));
    const pem = x509.PemConverter.encode(whole.buffer as ArrayBuffer, "CERTIFICATE");
    await writeFile(join(folder, `${name}.pem`), `${pem}\n${caPem}\n${keyPem}\n`);
  }
}
