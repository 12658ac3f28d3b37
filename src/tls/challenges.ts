/**
 * ACME http-01 answers: `GET /.well-known/acme-challenge/<token>` on a plain
 * listener gets the key authorization while an order is being validated.
 * With workers, the primary's book is copied to each worker's.
 */
export const CHALLENGE_PREFIX = "/.well-known/acme-challenge/";

export type ChallengeListener = (token: string, keyAuthorization: string | null) => void;

export class ChallengeBook {
  private readonly answers = new Map<string, string>();
  private readonly listeners = new Set<ChallengeListener>();

  set(token: string, keyAuthorization: string): void {
    this.answers.set(token, keyAuthorization);
    for (const listener of this.listeners) listener(token, keyAuthorization);
  }

  delete(token: string): void {
    if (!this.answers.delete(token)) return;
    for (const listener of this.listeners) listener(token, null);
  }

  /** No challenge is pending (the usual case: listeners then look no further). */
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
}
