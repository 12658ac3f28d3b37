/** Waiting on the CA: every wait ends at the order's deadline, or sooner when it is given up. */

/** Resolves after `ms`, or rejects as soon as `signal` is aborted. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortReason(signal));
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    signal.addEventListener("abort", stop, { once: true });
  });
}

/** `work`'s result, or a rejection as soon as `signal` is aborted (the work is left to end alone). */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(abortReason(signal));
    signal.addEventListener("abort", stop, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", stop);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", stop);
        reject(error);
      },
    );
  });
}

const FIRST_POLL_MS = 250;
const POLL_CAP_MS = 3_000;

/**
 * Fetches `read` until `settled` says its status is final, a little less
 * often each time; the caller's signal bounds the whole wait.
 */
export async function pollUntil<T>(
  read: () => Promise<T>,
  settled: (value: T) => boolean,
  signal: AbortSignal,
): Promise<T> {
  let interval = FIRST_POLL_MS;
  for (;;) {
    const value = await read();
    if (settled(value)) return value;
    await pause(interval, signal);
    interval = Math.min(interval * 2, POLL_CAP_MS);
  }
}

/** The signal's reason as an Error: a deadline's TimeoutError says how it ended. */
function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error(String(reason ?? "given up"));
}
