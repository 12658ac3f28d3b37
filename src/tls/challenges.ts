/**
 * ACME challenges being validated, as every listener answers them:
 * - http-01: `GET /.well-known/acme-challenge/<token>` on a plain listener
 *   gets the key authorization;
 * - tls-alpn-01: a TLS handshake for the name that offers ALPN `acme-tls/1`
 *   gets a self-signed certificate proving the key authorization (RFC 8737).
 * With workers, the primary's book is copied to each worker's.
 */
export const CHALLENGE_PREFIX = "/.well-known/acme-challenge/";

export type ChallengeListener = (token: string, keyAuthorization: string | null) => void;

/** The tls-alpn-01 certificate of a name (RFC 8737 §3), made by whoever orders it. */
export interface AlpnAnswer {
  readonly cert: string;
  readonly key: string;
}

export type AlpnListener = (name: string, answer: AlpnAnswer | null) => void;

export class ChallengeBook {
  private readonly answers = new Map<string, string>();
  private readonly listeners = new Set<ChallengeListener>();
  private readonly alpnAnswers = new Map<string, AlpnAnswer>();
  private readonly alpnListeners = new Set<AlpnListener>();

  set(token: string, keyAuthorization: string): void {
    this.answers.set(token, keyAuthorization);
    for (const listener of this.listeners) listener(token, keyAuthorization);
  }

  delete(token: string): void {
    if (!this.answers.delete(token)) return;
    for (const listener of this.listeners) listener(token, null);
  }

  /** No http-01 challenge is pending (the usual case: listeners then look no further). */
  get empty(): boolean {
    return this.answers.size === 0;
  }

  /** The answer for a request target, or null when it is no challenge of ours. */
  answer(target: string): string | null {
    if (this.answers.size === 0 || !target.startsWith(CHALLENGE_PREFIX)) return null;
    return this.answers.get(target.slice(CHALLENGE_PREFIX.length)) ?? null;
  }

  entries(): [string, string][] {
    return [...this.answers];
  }

  onChange(listener: ChallengeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Puts (or with null, takes away) the tls-alpn-01 certificate of `name` (lower case). */
  setAlpn(name: string, answer: AlpnAnswer | null): void {
    if (answer === null) {
      if (!this.alpnAnswers.delete(name)) return;
    } else {
      this.alpnAnswers.set(name, answer);
    }
    for (const listener of this.alpnListeners) listener(name, answer);
  }

  alpnEntries(): [string, AlpnAnswer][] {
    return [...this.alpnAnswers];
  }

  onAlpnChange(listener: AlpnListener): () => void {
    this.alpnListeners.add(listener);
    return () => this.alpnListeners.delete(listener);
  }
}
