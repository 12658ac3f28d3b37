/**
 * Certificates from ACME for every rule that says `"tls": "auto"`: one
 * Renewal per name, started when a rule first asks for the name (at start,
 * or through any rule change) and stopped when none asks any more. A stopped
 * name's certificate no longer serves, but its file stays: should a rule ask
 * again, it serves again without a new order while it is valid.
 */
import { readFile } from "node:fs/promises";
import { type Config, ConfigError } from "../../config/config.ts";
import { log } from "../../log.ts";
import type { Change, RuleRegistry } from "../../rules/registry.ts";
import type { RuleEntries } from "../../rules/schema.ts";
import { describeFileError, isSystemError } from "../../system/file-error.ts";
import type { Certificate } from "../certificate.ts";
import type { ChallengeBook } from "../challenges.ts";
import type { KeptCertificates } from "../kept.ts";
import { accountKey } from "./account.ts";
import { type ChallengeType, type Issued, orderCertificate } from "./order.ts";
import { untilAborted } from "./poll.ts";
import { Renewal } from "./renewal.ts";
import { overLink } from "./transport.ts";
import { WantedNames } from "./wanted.ts";

/** One order, from account to download; a stuck CA is given up on after this. */
const ORDER_DEADLINE_MS = 5 * 60_000;
/** Each request to the CA. */
const REQUEST_TIMEOUT_MS = 30_000;

export type AcmeConfig = Pick<
  Config,
  | "acmeDirectory"
  | "acmeEmail"
  | "acmeCaRoot"
  | "acmeRenewBefore"
  | "acmeChallenge"
  | "bind"
  | "bindTls"
>;

export interface AcmeDeps {
  readonly config: AcmeConfig;
  /** Where certificates are stored durably and served from. */
  readonly kept: KeptCertificates;
  /** Answers for the listeners: http-01 on plain ones, tls-alpn-01 on TLS ones. */
  readonly challenges: ChallengeBook;
  /** Resolves once the challenges set so far are answered by every process (workers). */
  readonly challengesServed: () => Promise<void>;
  /** `acme_ca_root`'s text (`readCaRoot`); null: the system's CAs. */
  readonly caRoot: string | null;
}

export class AcmeCertificates {
  private readonly renewals = new Map<string, Renewal>();
  /** Certificates of names no rule asks for now: served again, as they are, when one does. */
  private readonly resting = new Map<string, Certificate>();
  private readonly wanted: WantedNames;
  private account: Promise<string> | null = null;
  private readonly toldNoListener = new Set<string>();
  private unfollow: () => void = () => {};
  /** Null: no listener can answer the CA's check. */
  private readonly challengeType: ChallengeType | null;

  private constructor(
    private readonly deps: AcmeDeps,
    rules: RuleEntries,
  ) {
    this.wanted = new WantedNames(rules);
    this.challengeType = challengeTypeOf(deps.config);
  }

  /**
   * Starts a renewal for each name the rules ask for, and follows their changes;
   * a stored certificate no rule asks for stops serving.
   */
  static start(
    rules: Pick<RuleRegistry<unknown>, "entries" | "onChange">,
    deps: AcmeDeps,
  ): AcmeCertificates {
    const acme = new AcmeCertificates(deps, rules.entries());
    acme.unfollow = rules.onChange((changes) => acme.follow(changes));
    const names = acme.wanted.names();
    for (const certificate of deps.kept.catalog.all()) {
      if (certificate.source !== "acme" || names.has(certificate.name)) continue;
      acme.rest(certificate.name);
    }
    for (const name of names) acme.begin(name);
    return acme;
  }

  /** Follows a batch of rule changes (the registry's `onChange`). */
  follow(changes: readonly Change[]): void {
    const { added, removed } = this.wanted.follow(changes);
    for (const name of removed) {
      this.renewals.get(name)?.stop();
      this.renewals.delete(name);
      this.rest(name);
    }
    for (const name of added) this.begin(name);
  }

  /** The names being kept, for the log and tests. */
  names(): string[] {
    return [...this.renewals.keys()].sort();
  }

  /** Stops following the rules; gives up every order under way and every timer. */
  stop(): void {
    this.unfollow();
    for (const renewal of this.renewals.values()) renewal.stop();
    this.renewals.clear();
  }

  private begin(name: string): void {
    if (this.challengeType === null) {
      if (!this.toldNoListener.has(name)) {
        this.toldNoListener.add(name);
        log.warn(
          `acme: cannot obtain a certificate for ${name}: ${noListenerReason(this.deps.config)}`,
        );
      }
      return;
    }
    const resting = this.resting.get(name);
    this.resting.delete(name);
    const { catalog } = this.deps.kept;
    if (resting !== undefined && catalog.of(name, "acme") === null) catalog.put(resting);
    const renewal = new Renewal(name, {
      kept: this.deps.kept,
      renewBeforeSeconds: this.deps.config.acmeRenewBefore,
      order: (orderName, signal) => this.order(orderName, signal),
    });
    this.renewals.set(name, renewal);
    renewal.start();
  }

  private rest(name: string): void {
    const { catalog } = this.deps.kept;
    const certificate = catalog.of(name, "acme");
    if (certificate === null) return;
    this.resting.set(name, certificate);
    catalog.remove(name, "acme");
  }

  private async order(name: string, stop: AbortSignal): Promise<Issued> {
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new Error(`no certificate within ${ORDER_DEADLINE_MS / 1000} s`)),
      ORDER_DEADLINE_MS,
    );
    const signal = AbortSignal.any([stop, deadline.signal]);
    const link = { ca: this.deps.caRoot, signal, requestTimeoutMs: REQUEST_TIMEOUT_MS };
    try {
      return await untilAborted(
        overLink(link, async () =>
          orderCertificate(name, {
            directoryUrl: this.deps.config.acmeDirectory,
            accountKey: await this.accountKey(),
            email: this.deps.config.acmeEmail,
            challengeType: this.challengeType ?? "http-01",
            challenges: this.deps.challenges,
            challengesServed: this.deps.challengesServed,
            signal,
          }),
        ),
        signal,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /** Made or read once; a failure to save it is tried again by the next order. */
  private accountKey(): Promise<string> {
    if (this.account === null) {
      const reading = accountKey(this.deps.kept.store);
      reading.catch(() => {
        if (this.account === reading) this.account = null;
      });
      this.account = reading;
    }
    return this.account;
  }
}

/**
 * `acme_challenge`: `auto` is http-01 when a `bind` listener exists (the CA
 * checks port 80), else tls-alpn-01 on the `bind_tls` listeners (port 443).
 */
export function challengeTypeOf(config: AcmeConfig): ChallengeType | null {
  const plain = config.bind.length > 0;
  const tls = config.bindTls.length > 0;
  switch (config.acmeChallenge) {
    case "http-01":
      return plain ? "http-01" : null;
    case "tls-alpn-01":
      return tls ? "tls-alpn-01" : null;
    default:
      return plain ? "http-01" : tls ? "tls-alpn-01" : null;
  }
}

function noListenerReason(config: AcmeConfig): string {
  switch (config.acmeChallenge) {
    case "http-01":
      return "acme_challenge = http-01 and no bind listener is configured (the CA checks over plain HTTP, port 80)";
    case "tls-alpn-01":
      return "acme_challenge = tls-alpn-01 and no bind_tls listener is configured (the CA checks over TLS, port 443)";
    default:
      return "no bind or bind_tls listener is configured for the CA's check (port 80 or 443)";
  }
}

/** Read before anything starts, so a wrong path stops the start with a clear error. */
export async function readCaRoot(path: string | null): Promise<string | null> {
  if (path === null) return null;
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if (!isSystemError(error)) throw error;
    const hint = "acme_ca_root names a PEM file of the CA certificates that sign the ACME server's";
    throw new ConfigError(describeFileError(error, `read acme_ca_root ${path}`, hint));
  }
}
