/**
 * Where each figure of a rule or a backend sits in its counter array (a
 * `Float64Array`, made on its first request): what the request path
 * increments, what a worker sends its primary, what the primary adds up.
 */
import { histogramSlots, LATENCY_BOUNDS } from "./buckets.ts";

/** The `code` label of each status class; `other`: no status was sent, or one outside them. */
export const CODE_CLASSES = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"] as const;

/** The slot of a status's class. */
export function codeSlot(status: number): number {
  const hundreds = (status / 100) | 0;
  return hundreds >= 1 && hundreds <= 5 ? hundreds - 1 : 5;
}

/** Requests whose answer did not go out whole (the client left, a response cut). */
export const INCOMPLETE = CODE_CLASSES.length;
/** Bytes received from clients, and sent to them. */
export const RECEIVED = INCOMPLETE + 1;
export const SENT = RECEIVED + 1;
/** Connection attempts beyond each request's first (rules only). */
export const RETRIES = SENT + 1;
/** Seconds requests were held: spinning, queued for a backend, or all its backends down (rules only). */
export const HELD = RETRIES + 1;
/** Histogram: seconds from a request's head to the end of its answer (upgrades left out). */
export const DURATION = HELD + 1;
/** Histogram: seconds from sending a request to a backend to its response head. */
export const HEAD = DURATION + histogramSlots(LATENCY_BOUNDS);
export const SLOTS = HEAD + histogramSlots(LATENCY_BOUNDS);

/** A histogram's count: the sum of its bucket slots. */
export function histogramCount(counts: ArrayLike<number>, at: number, buckets: number): number {
  let total = 0;
  for (let i = 0; i <= buckets; i++) total += counts[at + i]!;
  return total;
}
