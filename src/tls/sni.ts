/**
 * The certificate a TLS handshake gets, by the name the client asks for (SNI):
 * that name's, else the wildcard's one label up (`*.example.com` serves
 * `a.example.com`, not `a.b.example.com` nor `example.com`), else the
 * `tls_default` one, else none: the handshake is refused with an alert.
 *
 * It follows the catalog. A change drops the name's context; the next
 * handshake for it builds the new one, which then serves every handshake
 * until the next change. So a context is built at most once per change,
 * never per handshake, only for names clients ask for, and a lookup is two
 * Map reads whatever the number of certificates. Open connections keep the
 * certificate they shook hands with.
 */
import { createSecureContext, type SecureContext, type SecureContextOptions } from "node:tls";
import type { TlsVersion } from "../config/config.ts";
import { log } from "../log.ts";
import type { CertificateCatalog } from "./catalog.ts";
import type { Certificate } from "./certificate.ts";
import { refusalCertificate } from "./refusal.ts";

/** What the data plane reads of the certificates: the catalog, or a worker's copy of it. */
export type CertificateFeed = Pick<CertificateCatalog, "all" | "onChange">;

export interface TlsSettings {
  readonly minVersion: TlsVersion;
  /** OpenSSL cipher list for TLS 1.2; null keeps the default. */
  readonly ciphers: string | null;
}

/** The key and chain of a context, with the settings every context shares. */
type Pem = Pick<SecureContextOptions, "cert" | "key" | "sigalgs">;

export class SniContexts {
  private readonly certificates = new Map<string, Certificate>();
  /** Built on a name's first handshake since its last change; null: its certificate did not load. */
  private readonly contexts = new Map<string, SecureContext | null>();
  private readonly refusal: SecureContext;
  private readonly defaultName: string | null;
  private readonly defaultListeners = new Set<() => void>();

  constructor(
    private readonly settings: TlsSettings,
    defaultName: string | null,
  ) {
    this.defaultName = defaultName === null ? null : defaultName.toLowerCase();
    // Also checks `tls_ciphers` once, at start-up.
    this.refusal = createSecureContext(this.options(refusalCertificate()));
  }

  /** Takes every certificate the feed serves now and each change after; returns the unsubscribe. */
  follow(feed: CertificateFeed): () => void {
    for (const certificate of feed.all()) this.put(certificate.name, certificate);
    return feed.onChange((name, serving) => this.put(name, serving));
  }

  /** The certificate now serving `name`, or null when none does any more. */
  put(name: string, certificate: Certificate | null): void {
    if (certificate === null) this.certificates.delete(name);
    else this.certificates.set(name, certificate);
    this.contexts.delete(name);
    if (name === this.defaultName) for (const listener of this.defaultListeners) listener();
  }

  get size(): number {
    return this.certificates.size;
  }

  /** The context for a handshake that asked for `servername`: never null (the refusal at worst). */
  select(servername: string): SecureContext {
    const name = canonical(servername);
    return (
      this.contextOf(name) ??
      this.contextOf(wildcardOf(name)) ??
      this.contextOf(this.defaultName) ??
      this.refusal
    );
  }

  /**
   * The listener's own context options, for handshakes without SNI: the
   * default certificate's, or the refusal's when there is none.
   */
  listenerOptions(): SecureContextOptions {
    const certificate =
      this.defaultName === null ? undefined : this.certificates.get(this.defaultName);
    if (certificate === undefined || this.contextOf(this.defaultName) === null) {
      return this.options(refusalCertificate());
    }
    return this.options(certificate);
  }

  /** Told when the default certificate changes (listeners then renew their own context). */
  onDefaultChange(listener: () => void): () => void {
    this.defaultListeners.add(listener);
    return () => this.defaultListeners.delete(listener);
  }

  private contextOf(name: string | null): SecureContext | null {
    if (name === null) return null;
    const built = this.contexts.get(name);
    if (built !== undefined) return built;
    const certificate = this.certificates.get(name);
    if (certificate === undefined) return null;
    let context: SecureContext | null = null;
    try {
      context = createSecureContext(this.options(certificate));
    } catch (error) {
      // Kept as null until the certificate changes: one warning, not one per handshake.
      log.warn(`certificate ${name} cannot be served: ${(error as Error).message}`);
    }
    this.contexts.set(name, context);
    return context;
  }

  private options(pem: Pem): SecureContextOptions {
    const { minVersion, ciphers } = this.settings;
    return {
      cert: pem.cert,
      key: pem.key,
      ...(pem.sigalgs === undefined ? {} : { sigalgs: pem.sigalgs }),
      minVersion,
      ...(ciphers === null ? {} : { ciphers }),
      honorCipherOrder: true,
    };
  }
}

/** Lower-case, without a trailing dot (SNI should carry none, some clients send one). */
function canonical(servername: string): string {
  const lower = servername.toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}

/** `a.example.com` → `*.example.com`; null for a single label. */
export function wildcardOf(name: string): string | null {
  const dot = name.indexOf(".");
  return dot > 0 && dot < name.length - 1 ? `*${name.slice(dot)}` : null;
}
