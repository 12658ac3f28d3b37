/** Where a backend listens, as a proxy rule names it. */
export interface BackendAddress {
  readonly host: string;
  readonly port: number;
  /** `host:port` (IPv6 in brackets), the pool's key. */
  readonly key: string;
}
