/**
 * The tls-alpn-01 certificates this process answers with, one TLS context per
 * name, following the challenge book. A handshake gets one only when it asks
 * for that name and offers ALPN `acme-tls/1` (RFC 8737 §3): every other
 * client of the name keeps its usual certificate, during a renewal too.
 */
import { createSecureContext, type SecureContext } from "node:tls";
import { log } from "../../log.ts";
import type { ChallengeBook } from "../challenges.ts";
import type { ClientHello } from "./client-hello.ts";

export const ACME_TLS_PROTOCOL = "acme-tls/1";

export type PendingListener = (pending: boolean) => void;

export class AlpnContexts {
  private readonly contexts = new Map<string, SecureContext>();
  private readonly listeners = new Set<PendingListener>();
  private readonly unfollow: () => void;

  constructor(book: ChallengeBook) {
    for (const [name, answer] of book.alpnEntries()) this.put(name, answer);
    this.unfollow = book.onAlpnChange((name, answer) => {
      const was = this.pending;
      this.put(name, answer);
      if (this.pending !== was) for (const listener of this.listeners) listener(this.pending);
    });
  }

  /** A check is pending: TLS listeners must read each hello to see whether it is the CA's. */
  get pending(): boolean {
    return this.contexts.size > 0;
  }

  /** The challenge context for this hello, or null when it is an ordinary client's. */
  contextFor(hello: ClientHello): SecureContext | null {
    if (hello.servername === null || !hello.protocols.includes(ACME_TLS_PROTOCOL)) return null;
    return this.contexts.get(hello.servername) ?? null;
  }

  /** Told when `pending` changes; returns the unsubscribe. */
  onPendingChange(listener: PendingListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stop(): void {
    this.unfollow();
    this.listeners.clear();
  }

  private put(name: string, answer: { cert: string; key: string } | null): void {
    if (answer === null) {
      this.contexts.delete(name);
      return;
    }
    try {
      this.contexts.set(name, createSecureContext({ cert: answer.cert, key: answer.key }));
    } catch (error) {
      // The order then fails at the CA's check, and says so; here one line says why.
      this.contexts.delete(name);
      log.warn(
        `acme: the tls-alpn-01 certificate of ${name} cannot be served: ${(error as Error).message}`,
      );
    }
  }
}
