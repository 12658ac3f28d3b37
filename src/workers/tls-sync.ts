/**
 * With workers, the primary holds the certificates and the ACME challenges and
 * each worker serves from a copy: every change is sent to every worker (and a
 * worker that starts gets them all with its start).
 */

import { log } from "../log.ts";
import type { CertificateCatalog } from "../tls/catalog.ts";
import type { ChallengeBook } from "../tls/challenges.ts";
import type { TlsState } from "./messages.ts";
import type { WorkerPool } from "./primary.ts";

/** What the TLS listeners serve, and what the plain ones answer ACME validations with. */
export interface TlsSources {
  readonly certificates: CertificateCatalog;
  readonly challenges: ChallengeBook;
}

export interface TlsSync {
  /** Resolves once every change sent so far has reached every worker. */
  settled(): Promise<void>;
  stop(): void;
}

export function tlsState({ certificates, challenges }: TlsSources): TlsState {
  return {
    certificates: certificates.all(),
    challenges: challenges.entries(),
    alpnChallenges: challenges.alpnEntries(),
  };
}

export function syncTls(pool: WorkerPool, { certificates, challenges }: TlsSources): TlsSync {
  let last: Promise<void> = Promise.resolve();
  const track = (sent: Promise<void>) => {
    last = Promise.all([last, sent]).then(
      () => {},
      (error) => log.error(`workers: ${(error as Error).message}`),
    );
  };
  const stopCertificates = certificates.onChange((name, certificate) =>
    track(pool.broadcast((id) => ({ type: "certificate", id, name, certificate }))),
  );
  const stopChallenges = challenges.onChange((token, keyAuthorization) =>
    track(pool.broadcast((id) => ({ type: "challenge", id, token, keyAuthorization }))),
  );
  const stopAlpn = challenges.onAlpnChange((name, answer) =>
    track(pool.broadcast((id) => ({ type: "alpn-challenge", id, name, answer }))),
  );
  return {
    settled: () => last,
    stop() {
      stopCertificates();
      stopChallenges();
      stopAlpn();
    },
  };
}
