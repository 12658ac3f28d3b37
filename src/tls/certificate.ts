/** A certificate as Mantrid serves it: a hostname's (or a wildcard's) chain and key, and where it came from. */

/** Where a certificate came from, strongest first: the API overrides the folder, the folder ACME. */
export const SOURCES = ["api", "dir", "acme"] as const;
export type CertificateSource = (typeof SOURCES)[number];

export interface Certificate {
  /** A hostname or `*.example.com`, lower-case, as SNI looks it up. */
  readonly name: string;
  /** PEM chain, leaf first. */
  readonly cert: string;
  /** PEM private key; never logged, never answered. */
  readonly key: string;
  readonly source: CertificateSource;
  /** The leaf's validity, milliseconds since the epoch. */
  readonly notBefore: number;
  readonly notAfter: number;
  /** The leaf's issuer, as one line. */
  readonly issuer: string;
  /** The names the leaf covers (its subjectAltName DNS entries). */
  readonly names: readonly string[];
}

/** What `GET /certificate/` shows of one: everything but the key. */
export interface CertificateSummary {
  name: string;
  source: CertificateSource;
  not_before: string;
  not_after: string;
  issuer: string;
  names: string[];
}

export function summarize(certificate: Certificate): CertificateSummary {
  return {
    name: certificate.name,
    source: certificate.source,
    not_before: new Date(certificate.notBefore).toISOString(),
    not_after: new Date(certificate.notAfter).toISOString(),
    issuer: certificate.issuer,
    names: [...certificate.names],
  };
}
