/**
 * One name's certificate from ACME over time: obtained when no stored one is
 * valid, renewed from `notAfter − renew_before` (with jitter), retried with
 * back-off after a failure. The certificate serving meanwhile keeps serving
 * until its successor is stored. Stopping gives up the order under way.
 */
import { log } from "../../log.ts";
import type { Certificate } from "../certificate.ts";
import type { KeptCertificates } from "../kept.ts";
import { parseCertificate } from "../parse.ts";
import type { Issued } from "./order.ts";
import {
  DEFAULT_RENEW_BEFORE_MS,
  LONGEST_TIMER_MS,
  type RenewWindow,
  renewalTime,
  renewWindow,
  retryDelay,
} from "./schedule.ts";

export interface RenewalContext {
  readonly kept: KeptCertificates;
  /** `acme_renew_before`; null: the default. */
  readonly renewBeforeSeconds: number | null;
  /** Places one order for `name`, bounded by its own deadline and by `signal`. */
  order(name: string, signal: AbortSignal): Promise<Issued>;
}

export class Renewal {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempt: AbortController | null = null;
  private failures = 0;
  private stopped = false;
  private toldShortened = false;

  constructor(
    readonly name: string,
    private readonly context: RenewalContext,
  ) {}

  /** Renews when due: at once when nothing (or nothing valid) is stored. */
  start(): void {
    const current = this.current();
    if (current === null || current.notAfter <= Date.now()) {
      void this.run();
      return;
    }
    const at = renewalTime(current.notAfter, this.windowOf(current));
    log.info(`acme: certificate for ${this.name} kept, ${validity(current, at)}`);
    this.waitUntil(at);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.attempt?.abort(new Error("the rule no longer asks for it"));
  }

  private current(): Certificate | null {
    return this.context.kept.catalog.of(this.name, "acme");
  }

  private windowOf(current: Certificate): RenewWindow {
    const window = renewWindow(current, this.context.renewBeforeSeconds);
    if (window.shortened && !this.toldShortened) {
      this.toldShortened = true;
      const lifetime = Math.round((current.notAfter - current.notBefore) / 1000);
      log.info(
        `acme: acme_renew_before (${this.context.renewBeforeSeconds} s) is not shorter than the ` +
          `${lifetime} s lifetime of ${this.name}'s certificate: it renews a third of its ` +
          "lifetime before expiry",
      );
    }
    return window;
  }

  /** Waits in steps no timer refuses (a renewal is often weeks away). */
  private waitUntil(at: number): void {
    if (this.stopped) return;
    const delay = at - Date.now();
    if (delay <= 0) {
      void this.run();
      return;
    }
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.waitUntil(at);
      },
      Math.min(delay, LONGEST_TIMER_MS),
    );
    this.timer.unref?.();
  }

  private async run(): Promise<void> {
    const before = this.current();
    const doing = before === null ? "obtain" : "renew";
    const attempt = new AbortController();
    this.attempt = attempt;
    try {
      const issued = await this.context.order(this.name, attempt.signal);
      if (this.stopped) return;
      const certificate = parseCertificate(this.name, issued.cert, issued.key, "acme", Date.now());
      await this.context.kept.put(certificate);
      if (this.stopped) return;
      this.failures = 0;
      const at = renewalTime(certificate.notAfter, this.windowOf(certificate));
      const done = before === null ? "obtained" : "renewed";
      log.info(`acme: certificate for ${this.name} ${done}, ${validity(certificate, at)}`);
      this.waitUntil(at);
    } catch (error) {
      if (this.stopped) return;
      this.failures++;
      const window = before === null ? this.firstWindow() : this.windowOf(before).ms;
      const delay = retryDelay(this.failures, window);
      const at = Date.now() + delay;
      log.warn(
        `acme: cannot ${doing} the certificate for ${this.name}: ${(error as Error).message}; ` +
          `next try in ${formatDelay(delay)} (${new Date(at).toISOString()})`,
      );
      this.waitUntil(at);
    } finally {
      if (this.attempt === attempt) this.attempt = null;
    }
  }

  /** Before any certificate, the configured window tells how patient to be. */
  private firstWindow(): number {
    const seconds = this.context.renewBeforeSeconds;
    return seconds === null ? DEFAULT_RENEW_BEFORE_MS : seconds * 1000;
  }
}

function validity(certificate: Certificate, renewal: number): string {
  const until = new Date(certificate.notAfter).toISOString();
  return `valid until ${until}, renewal from ${new Date(renewal).toISOString()}`;
}

function formatDelay(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3_600_000)} h`;
}
