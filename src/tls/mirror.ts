/**
 * A worker's copy of the primary's serving certificates: the primary sends
 * each name's serving certificate (or null) as it changes, and the worker's
 * TLS listeners follow this copy as they would follow the catalog.
 */
import type { CatalogListener } from "./catalog.ts";
import type { Certificate } from "./certificate.ts";
import type { CertificateFeed } from "./sni.ts";

export class CertificateMirror implements CertificateFeed {
  private readonly serving = new Map<string, Certificate>();
  private readonly listeners = new Set<CatalogListener>();

  set(name: string, certificate: Certificate | null): void {
    if (certificate === null) {
      if (!this.serving.delete(name)) return;
    } else this.serving.set(name, certificate);
    for (const listener of this.listeners) listener(name, certificate);
  }

  all(): Certificate[] {
    return [...this.serving.values()];
  }

  onChange(listener: CatalogListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
