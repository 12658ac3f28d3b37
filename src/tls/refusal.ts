/**
 * The certificate of a handshake Mantrid refuses (a name it has no
 * certificate for, and no `tls_default`). Handing OpenSSL no certificate at
 * all ends the handshake with an `internal_error` alert; this one is paired
 * with signature algorithms its key cannot make, so the handshake stops at
 * that choice, before the server's hello, with a `handshake_failure` alert.
 * It is never sent. Made at start-up: a throwaway P-256 key, self-signed.
 */
import { selfSigned } from "./self-signed.ts";

export interface RefusalPem {
  cert: string;
  key: string;
  /** Only RSA-PSS, which an EC key cannot sign with. */
  sigalgs: string;
}

let made: RefusalPem | null = null;

export function refusalCertificate(): RefusalPem {
  made ??= {
    ...selfSigned({ commonName: "refused", notBefore: "250101000000Z", notAfter: "491231235959Z" }),
    sigalgs: "RSA-PSS+SHA256",
  };
  return made;
}
