/**
 * Rates as the management API gives them: per second over the last 1, 10
 * and 60 seconds, and the mean latency of the requests that ended in each.
 */
import {
  BYTES_RECEIVED,
  BYTES_SENT,
  ERRORS,
  FIELD_COUNT,
  LATENCY_MS,
  REQUESTS,
  TIMED,
  WINDOWS,
} from "./rate-ring.ts";

export interface Windowed<T = number> {
  "1s": T;
  "10s": T;
  "60s": T;
}

interface CommonRates {
  requests_per_second: Windowed;
  /** Bytes to clients. */
  bytes_sent_per_second: Windowed;
  /** Bytes from clients. */
  bytes_received_per_second: Windowed;
  /** Mean milliseconds from a request's head to the end of its answer; null when none ended. */
  latency_ms: Windowed<number | null>;
}

/** A host's rates, in `/stats/`. */
export interface HostRates extends CommonRates {
  /**
   * Answers with a 5xx status (Mantrid's own 502, 503 and 504 too), and requests
   * that ended without a whole answer (the client left, a cut response).
   */
  errors_per_second: Windowed;
}

/** A backend's rates, in `/backend/`: bytes and latency of the requests it answered. */
export interface BackendRates extends CommonRates {
  /** Failed attempts: refused, reset before a head, a listed status. */
  failures_per_second: Windowed;
}

const WINDOW_NAMES = ["1s", "10s", "60s"] as const satisfies readonly (keyof Windowed)[];

export function hostRates(totals: readonly number[] | undefined): HostRates {
  return {
    requests_per_second: perSecond(totals, REQUESTS),
    bytes_sent_per_second: perSecond(totals, BYTES_SENT),
    bytes_received_per_second: perSecond(totals, BYTES_RECEIVED),
    errors_per_second: perSecond(totals, ERRORS),
    latency_ms: latency(totals),
  };
}

export function backendRates(totals: readonly number[] | undefined): BackendRates {
  return {
    requests_per_second: perSecond(totals, REQUESTS),
    bytes_sent_per_second: perSecond(totals, BYTES_SENT),
    bytes_received_per_second: perSecond(totals, BYTES_RECEIVED),
    failures_per_second: perSecond(totals, ERRORS),
    latency_ms: latency(totals),
  };
}

function perSecond(totals: readonly number[] | undefined, field: number): Windowed {
  const out = { "1s": 0, "10s": 0, "60s": 0 };
  if (totals === undefined) return out;
  WINDOW_NAMES.forEach((name, w) => {
    out[name] = round(totals[w * FIELD_COUNT + field]! / WINDOWS[w]!);
  });
  return out;
}

function latency(totals: readonly number[] | undefined): Windowed<number | null> {
  const out: Windowed<number | null> = { "1s": null, "10s": null, "60s": null };
  if (totals === undefined) return out;
  WINDOW_NAMES.forEach((name, w) => {
    const timed = totals[w * FIELD_COUNT + TIMED]!;
    if (timed > 0) out[name] = round(totals[w * FIELD_COUNT + LATENCY_MS]! / timed);
  });
  return out;
}

/** Three decimals: enough for one request a minute, and short JSON. */
function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
