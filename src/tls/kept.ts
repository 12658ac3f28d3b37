/**
 * Certificates that outlive the process (the API's, ACME's): each change is
 * written to the store first and served after, so what was acknowledged
 * survives a restart and what failed to save never served.
 */
import type { CertificateCatalog } from "./catalog.ts";
import type { Certificate } from "./certificate.ts";
import type { CertificateStore, StoredSource } from "./store.ts";

export class KeptCertificates {
  constructor(
    readonly store: CertificateStore,
    readonly catalog: CertificateCatalog,
  ) {}

  /** Serves what the store holds; returns how many. */
  async load(now = Date.now()): Promise<number> {
    const certificates = await this.store.load(now);
    for (const certificate of certificates) this.catalog.put(certificate);
    return certificates.length;
  }

  /** Stores `certificate` durably, then serves it: the next handshake for its name uses it. */
  async put(certificate: Certificate): Promise<void> {
    await this.store.save(certificate);
    this.catalog.put(certificate);
  }

  /** Removes a source's certificate for `name`; returns it, or null when it had none. */
  async remove(name: string, source: StoredSource): Promise<Certificate | null> {
    const had = this.catalog.of(name, source);
    const stored = await this.store.remove(source, name);
    if (had === null && !stored) return null;
    this.catalog.remove(name, source);
    return had;
  }
}
