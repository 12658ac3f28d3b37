/**
 * A chain and a key checked before anything serves them: each is PEM that
 * decodes, the key is the leaf's, the leaf is valid now and names what it is
 * kept under, and the chain goes leaf first, each certificate issued by the
 * next. What is wrong is said exactly, and never with a byte of the key.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import type { Certificate, CertificateSource } from "./certificate.ts";
import { covers, parseCertificateName } from "./name.ts";
import { detached, isKeyLabel, joinPem, type PemBlock, pemBlocks, unendedBlocks } from "./pem.ts";

/** The part of the input at fault: `name`, `cert` (the chain) or `key`. */
export type CertificateField = "name" | "cert" | "key";

/** Why a certificate was refused; the message holds no key material. */
export class CertificateError extends Error {
  override name = "CertificateError";
  constructor(
    readonly field: CertificateField,
    message: string,
  ) {
    super(message);
  }
}

export function parseCertificate(
  name: string,
  certPem: string,
  keyPem: string,
  source: CertificateSource,
  now: number,
): Certificate {
  return checked(
    name,
    () => chainBlocks(certPem),
    () => keyBlocks(keyPem),
    source,
    now,
  );
}

/** A file holding the chain and then the key (`<name>.pem`), checked as `parseCertificate`. */
export function parseCertificateFile(
  name: string,
  text: string,
  source: CertificateSource,
  now: number,
): Certificate {
  // The file is cut into blocks once; the chain and the key are its blocks, in order.
  const blocks = pemBlocks(text);
  const chain = blocks.filter((block) => !isKeyLabel(block.label));
  const keys = blocks.filter((block) => isKeyLabel(block.label));
  if (unendedBlocks(text, blocks) > 0) {
    throw new CertificateError("cert", "a PEM block has no END line");
  }
  if (chain.length === 0) throw new CertificateError("cert", "the file holds no certificate");
  if (keys.length === 0) throw new CertificateError("key", "the file holds no private key");
  return checked(
    name,
    () => chain,
    () => keys,
    source,
    now,
  );
}

/**
 * The checks, in the order their failures are told: the name, the chain's
 * blocks, its order, the key's blocks, the key against the leaf, validity.
 */
function checked(
  name: string,
  chainOf: () => PemBlock[],
  keysOf: () => PemBlock[],
  source: CertificateSource,
  now: number,
): Certificate {
  const parsedName = parseCertificateName(name);
  if (!parsedName.ok) throw new CertificateError("name", parsedName.problems[0]!.message);
  const canonical = parsedName.value;
  const chain = readChain(chainOf());
  const leaf = chain[0]!;
  checkOrder(chain);
  const key = readKey(keysOf());
  if (!leaf.certificate.checkPrivateKey(key.object)) {
    throw new CertificateError("key", `the key does not match the leaf (${subjectOf(leaf)})`);
  }
  const notBefore = leaf.certificate.validFromDate.getTime();
  const notAfter = leaf.certificate.validToDate.getTime();
  if (now > notAfter) {
    throw new CertificateError("cert", `the leaf expired on ${new Date(notAfter).toISOString()}`);
  }
  if (now < notBefore) {
    const when = new Date(notBefore).toISOString();
    throw new CertificateError("cert", `the leaf is not valid before ${when}`);
  }
  const names = dnsNames(leaf.certificate);
  checkCovers(canonical, names);
  return {
    name: canonical,
    cert: chain.map((one) => one.text).join(""),
    key: key.text,
    source,
    notBefore,
    notAfter,
    issuer: oneLine(leaf.certificate.issuer),
    names,
  };
}

/** What a `<name>.pem` holds: the chain, then the key. */
export function certificateFileText(certificate: Certificate): string {
  return joinPem(certificate.cert, certificate.key);
}

interface ChainMember {
  readonly certificate: X509Certificate;
  /** The block as given, ending with a newline. */
  readonly text: string;
}

/** The chain's PEM blocks, every one ended; it has at least one. */
function chainBlocks(certPem: string): PemBlock[] {
  if (certPem.trim() === "") throw new CertificateError("cert", "the chain is empty");
  const blocks = pemBlocks(certPem);
  if (unendedBlocks(certPem, blocks) > 0) {
    throw new CertificateError("cert", "the chain has a PEM block with no END line");
  }
  if (blocks.length === 0) {
    throw new CertificateError(
      "cert",
      "the chain holds no PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)",
    );
  }
  return blocks;
}

function readChain(blocks: PemBlock[]): ChainMember[] {
  return blocks.map((block, i) => {
    const which = `block ${i + 1} of the chain`;
    if (isKeyLabel(block.label)) {
      throw new CertificateError("cert", `${which} is a private key; the key goes apart, in key`);
    }
    if (block.label !== "CERTIFICATE") {
      throw new CertificateError("cert", `${which} is a ${block.label}, not a CERTIFICATE`);
    }
    try {
      const certificate = i === 0 ? new X509Certificate(block.text) : issuerOf(block.text);
      return { certificate, text: `${block.text}\n` };
    } catch {
      throw new CertificateError("cert", `${which} does not decode as an X.509 certificate`);
    }
  });
}

/** Issuers decoded lately: thousands of leaves share a few intermediates, decoded once each. */
const issuers = new Map<string, X509Certificate>();
const ISSUERS_KEPT = 64;

function issuerOf(pem: string): X509Certificate {
  const known = issuers.get(pem);
  if (known !== undefined) return known;
  const certificate = new X509Certificate(pem);
  if (issuers.size >= ISSUERS_KEPT) issuers.clear();
  issuers.set(pem, certificate);
  return certificate;
}

/** Leaf first, then its issuer, and so on: each issued (named and signed) by the next. */
function checkOrder(chain: ChainMember[]): void {
  for (let i = 0; i + 1 < chain.length; i++) {
    const child = chain[i]!;
    const parent = chain[i + 1]!;
    if (child.certificate.checkIssued(parent.certificate)) {
      if (child.certificate.verify(parent.certificate.publicKey)) continue;
      throw new CertificateError(
        "cert",
        `certificate ${i + 1} of the chain (${subjectOf(child)}) names certificate ${i + 2} ` +
          `(${subjectOf(parent)}) as its issuer, but its signature is not that issuer's`,
      );
    }
    throw new CertificateError(
      "cert",
      `the chain is out of order: certificate ${i + 2} (${subjectOf(parent)}) did not issue ` +
        `certificate ${i + 1} (${subjectOf(child)}); give the leaf first, then each issuer`,
    );
  }
}

/** The key's private key blocks; there is at least one. */
function keyBlocks(keyPem: string): PemBlock[] {
  if (keyPem.trim() === "") throw new CertificateError("key", "the key is empty");
  const blocks = pemBlocks(keyPem);
  if (unendedBlocks(keyPem, blocks) > 0) {
    throw new CertificateError("key", "the key has a PEM block with no END line");
  }
  const keys = blocks.filter((block) => isKeyLabel(block.label));
  if (keys.length === 0) {
    const found = blocks.length > 0 ? `, only ${blocks[0]!.label}` : "";
    throw new CertificateError(
      "key",
      `the key holds no PEM private key (-----BEGIN PRIVATE KEY-----)${found}`,
    );
  }
  return keys;
}

function readKey(keys: PemBlock[]): { object: KeyObject; text: string } {
  if (keys.length > 1) {
    throw new CertificateError(
      "key",
      `the key holds ${keys.length} private keys; give the leaf's alone`,
    );
  }
  const block = keys[0]!;
  if (block.label === "ENCRYPTED PRIVATE KEY" || /^Proc-Type: 4,ENCRYPTED/m.test(block.text)) {
    throw new CertificateError("key", "the key is encrypted; give it without a passphrase");
  }
  try {
    return { object: createPrivateKey(block.text), text: detached(block.text, "\n") };
  } catch {
    // The library's reason is left out: it could quote what it failed to read.
    throw new CertificateError("key", `the ${block.label} block does not decode as a private key`);
  }
}

function checkCovers(name: string, names: readonly string[]): void {
  if (names.some((dnsName) => covers(dnsName, name))) return;
  if (names.length === 0) {
    throw new CertificateError(
      "cert",
      `the leaf names no DNS name (subjectAltName), so it cannot serve ${name}`,
    );
  }
  const wildcard = name.startsWith("*.") ? " (a wildcard name needs that wildcard among them)" : "";
  throw new CertificateError(
    "cert",
    `the leaf's names (${names.join(", ")}) do not cover ${name}${wildcard}`,
  );
}

/** The leaf's subjectAltName DNS entries, lower-case. */
function dnsNames(certificate: X509Certificate): string[] {
  const text = certificate.subjectAltName ?? "";
  const names: string[] = [];
  for (const entry of text.split(/,\s*/)) {
    if (entry.startsWith("DNS:")) names.push(entry.slice(4).toLowerCase());
  }
  return names;
}

function subjectOf(member: ChainMember): string {
  return oneLine(member.certificate.subject) || "no subject";
}

function oneLine(distinguishedName: string): string {
  return distinguishedName.split("\n").filter(Boolean).join(", ");
}
