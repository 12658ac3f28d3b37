/** Where a backend listens, as a proxy rule names it, and how it is reached. */
import type { BackendTls } from "./tls.ts";

export interface BackendAddress {
  readonly host: string;
  readonly port: number;
  /** `host:port` (IPv6 in brackets), or `https://host:port`: states, logs and metrics name it so. */
  readonly key: string;
  /** How a connection is made over TLS (an `https://` backend); null for plain TCP. */
  readonly tls: BackendTls | null;
  /**
   * Where its idle connections are pooled: the key, and for TLS how the
   * certificate was checked, so a rule never reuses a connection checked less
   * strictly than it asks.
   */
  readonly poolKey: string;
}
