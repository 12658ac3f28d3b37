/**
 * Many small reads, a batch at a time: the next batch is under way while the
 * caller works on the one it was given, so reading overlaps checking without
 * thousands of reads (and their text) in flight at once.
 */

/** Reads at once: enough to keep the disk and the thread pool busy, few enough to hold. */
export const BATCH = 64;

/** `read` of every item, in order, `size` at a time; a read that throws ends it with that error. */
export async function* inBatches<T, R>(
  items: readonly T[],
  read: (item: T) => Promise<R>,
  size = BATCH,
): AsyncGenerator<R[]> {
  const batch = (from: number) => {
    const reads = Promise.all(items.slice(from, from + size).map(read));
    // Left behind by a caller that stopped early, a failed batch must not go unhandled.
    reads.catch(() => {});
    return reads;
  };
  let next = items.length > 0 ? batch(0) : null;
  for (let from = 0; next !== null; from += size) {
    const current = await next;
    next = from + size < items.length ? batch(from + size) : null;
    yield current;
  }
}
