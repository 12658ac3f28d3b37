/**
 * The last minute, one slot a second: each slot holds what changed in that
 * second, only for the hosts (or backends) where something did, so an idle
 * name costs no slot. A rate over a window is what its slots add up to,
 * divided by its length in seconds.
 */

/** The windows rates are given over, in seconds; the longest is the ring's length. */
export const WINDOWS = [1, 10, 60] as const;
export const SLOTS = 60;

/** What a change counts, in the order of `Change.values`. */
export const REQUESTS = 0;
export const BYTES_SENT = 1;
export const BYTES_RECEIVED = 2;
/** Errors for a host (5xx answers, requests cut short), failures for a backend. */
export const ERRORS = 3;
/** Milliseconds that ended requests took, added up, and how many requests that is. */
export const LATENCY_MS = 4;
export const TIMED = 5;
export const FIELD_COUNT = 6;

/** What changed for one key over one slot. */
export interface Change {
  readonly key: string;
  /** `FIELD_COUNT` numbers, indexed by the constants above. */
  readonly values: readonly number[];
}

/**
 * Per key, its totals over each window: `WINDOWS.length` groups of
 * `FIELD_COUNT` numbers (window 0's fields, then window 1's, ...). Totals of
 * several processes add up number by number.
 */
export type Totals = number[];

/** One key's running totals over each window, and how many of each window's slots hold it. */
interface Running {
  readonly key: string;
  readonly values: number[];
  readonly slots: number[];
}

/** A change as a slot keeps it: with its key's running totals at hand. */
interface Filed {
  readonly running: Running;
  readonly values: readonly number[];
}

const EMPTY: readonly Filed[] = [];

export class RateRing {
  private readonly slots: (readonly Filed[])[];
  /** Where the next slot goes: the oldest, which it replaces. */
  private next = 0;
  private lastAt: number;
  /**
   * Kept as slots come and go, so reading the totals costs one step per key
   * rather than one per key and slot.
   */
  private readonly running = new Map<string, Running>();

  /** `startedAt`: the time (milliseconds, any origin) the first slot starts from. */
  constructor(
    startedAt: number,
    readonly size: number = SLOTS,
  ) {
    this.slots = Array.from({ length: size }, () => EMPTY);
    this.lastAt = startedAt;
  }

  /**
   * Files what changed since the last record, `at` milliseconds on the same
   * clock. That is one slot, or as many whole seconds as went by when the
   * record comes late (a busy event loop), the changes shared out evenly
   * among them. Returns the number of slots filed.
   */
  record(changes: readonly Change[], at: number): number {
    const seconds = Math.round((at - this.lastAt) / 1000);
    const count = Math.min(this.size, Math.max(1, seconds));
    this.lastAt = at;
    const filed = changes.map(
      (change): Filed => ({
        running: this.runningOf(change.key),
        values: count === 1 ? change.values : change.values.map((value) => value / count),
      }),
    );
    for (let i = 0; i < count; i++) this.push(filed);
    return count;
  }

  /** Each key's totals over the newest 1, 10 and 60 slots; keys with no change in any are absent. */
  totals(): Record<string, Totals> {
    const out: Record<string, Totals> = {};
    for (const running of this.running.values()) out[running.key] = running.values.slice();
    return out;
  }

  private runningOf(key: string): Running {
    let running = this.running.get(key);
    if (running === undefined) {
      const values = new Array<number>(WINDOWS.length * FIELD_COUNT).fill(0);
      running = { key, values, slots: new Array<number>(WINDOWS.length).fill(0) };
      this.running.set(key, running);
    }
    return running;
  }

  private push(slot: readonly Filed[]): void {
    // With the new slot, the one `w` slots back leaves the window of `w` seconds.
    for (let w = 0; w < WINDOWS.length; w++) {
      const leaving = this.slots[(this.next - WINDOWS[w]! + this.size) % this.size]!;
      for (const filed of leaving) this.leave(filed, w);
    }
    for (const { running, values } of slot) {
      for (let w = 0; w < WINDOWS.length; w++) {
        running.slots[w]!++;
        const base = w * FIELD_COUNT;
        for (let f = 0; f < FIELD_COUNT; f++) running.values[base + f]! += values[f]!;
      }
    }
    this.slots[this.next] = slot;
    this.next = (this.next + 1) % this.size;
  }

  private leave({ running, values }: Filed, w: number): void {
    const base = w * FIELD_COUNT;
    // A key's last slot out of a window leaves exact zeros, whatever the sums rounded.
    if (--running.slots[w]! === 0) running.values.fill(0, base, base + FIELD_COUNT);
    else for (let f = 0; f < FIELD_COUNT; f++) running.values[base + f]! -= values[f]!;
    // Out of the longest window, no slot holds the key any more.
    if (w === WINDOWS.length - 1 && running.slots[w] === 0) this.running.delete(running.key);
  }
}

/** Adds `more` into `into`, number by number (the totals of several workers). */
export function addTotals(into: Totals, more: readonly number[]): Totals {
  for (let i = 0; i < into.length; i++) into[i]! += more[i] ?? 0;
  return into;
}

/** A change, with negative values (counters reset under it) taken as none. */
export function changeOf(key: string, values: number[]): Change {
  for (let i = 0; i < FIELD_COUNT; i++) if (values[i]! < 0) values[i] = 0;
  return { key, values };
}
