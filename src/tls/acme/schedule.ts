/**
 * When to renew, and when to try again after a failure. Renewal starts
 * `acme_renew_before` ahead of expiry (by default 30 days, or a third of the
 * lifetime for shorter-lived certificates), a few percent earlier at random
 * so that certificates obtained together do not all renew in the same
 * second. Failures back off exponentially from a step that suits the window,
 * up to a cap, so that a long outage still leaves many tries before expiry.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const DEFAULT_RENEW_BEFORE_MS = 30 * DAY;
/** Renewal starts up to this share of the window earlier. */
const JITTER = 0.05;

export interface RenewWindow {
  /** How long before expiry renewal starts. */
  readonly ms: number;
  /** True when `acme_renew_before` was not shorter than the lifetime and a third of it is used. */
  readonly shortened: boolean;
}

/** How long before expiry a certificate valid from `notBefore` to `notAfter` renews. */
export function renewWindow(
  lifetime: { notBefore: number; notAfter: number },
  renewBeforeSeconds: number | null,
): RenewWindow {
  const third = Math.max(0, lifetime.notAfter - lifetime.notBefore) / 3;
  if (renewBeforeSeconds === null)
    return { ms: Math.min(DEFAULT_RENEW_BEFORE_MS, third), shortened: false };
  const configured = renewBeforeSeconds * SECOND;
  // Renewing as soon as it is issued would ask the CA again and again.
  if (configured >= lifetime.notAfter - lifetime.notBefore) return { ms: third, shortened: true };
  return { ms: configured, shortened: false };
}

/** The moment renewal starts: the window before expiry, up to a few percent more. */
export function renewalTime(notAfter: number, window: RenewWindow, random = Math.random): number {
  return notAfter - window.ms * (1 + JITTER * random());
}

/**
 * The wait before the next try after `failures` failures in a row: from one
 * second (a test's minutes-long certificate) to one minute (a real one), the
 * double each time, at most a tenth of the window and never over an hour.
 */
export function retryDelay(failures: number, windowMs: number): number {
  const first = clamp(windowMs / 1000, SECOND, MINUTE);
  const cap = clamp(windowMs / 10, first, HOUR);
  return Math.min(cap, first * 2 ** Math.max(0, failures - 1));
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

/** A timer cannot wait longer than about 24.8 days; longer waits are taken in steps. */
export const LONGEST_TIMER_MS = DAY;
