/**
 * Every certificate Mantrid knows, from every source, and the one that serves
 * each name: the API's over the folder's over ACME's. Listeners follow the
 * changes of the serving certificate; sources only put and remove their own.
 */
import { type Certificate, type CertificateSource, SOURCES } from "./certificate.ts";

/** The certificate now serving `name`, or null when none does any more. */
export type CatalogListener = (name: string, serving: Certificate | null) => void;

export class CertificateCatalog {
  private readonly bySource = new Map<CertificateSource, Map<string, Certificate>>(
    SOURCES.map((source) => [source, new Map()]),
  );
  private readonly listeners = new Set<CatalogListener>();

  /** Adds or replaces a source's certificate for its name. */
  put(certificate: Certificate): void {
    this.bySource.get(certificate.source)!.set(certificate.name, certificate);
    this.changed(certificate.name);
  }

  /** Removes a source's certificate; true if it had one. */
  remove(name: string, source: CertificateSource): boolean {
    if (!this.bySource.get(source)!.delete(name)) return false;
    this.changed(name);
    return true;
  }

  /** The certificate serving `name` (exactly this name, no wildcard matching). */
  serving(name: string): Certificate | null {
    for (const source of SOURCES) {
      const found = this.bySource.get(source)!.get(name);
      if (found !== undefined) return found;
    }
    return null;
  }

  /** A source's own certificate for `name`, serving or not. */
  of(name: string, source: CertificateSource): Certificate | null {
    return this.bySource.get(source)!.get(name) ?? null;
  }

  /** Every serving certificate, by name. */
  all(): Certificate[] {
    const names = new Set<string>();
    for (const certificates of this.bySource.values())
      for (const name of certificates.keys()) names.add(name);
    return [...names].sort().map((name) => this.serving(name)!);
  }

  /** Told of each change of a name's serving certificate; returns the unsubscribe. */
  onChange(listener: CatalogListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(name: string): void {
    const serving = this.serving(name);
    for (const listener of this.listeners) listener(name, serving);
  }
}
