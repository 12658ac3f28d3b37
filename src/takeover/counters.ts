/**
 * The counters a server adds after it has saved them for the last time: the
 * requests it finishes while its successor already serves. It sends them on
 * as it exits, so that each request is counted once across the two.
 */
import type { StatsRecord } from "../stats/host-stats.ts";
import type { CounterGrowth } from "./protocol.ts";

/** What grew in `now` since `saved`, per host; hosts that did not grow are left out. */
export function counterGrowth(
  now: Record<string, StatsRecord>,
  saved: Record<string, StatsRecord>,
): Record<string, CounterGrowth> {
  const growth: Record<string, CounterGrowth> = {};
  for (const [host, record] of Object.entries(now)) {
    const before = saved[host];
    const grown = {
      completed_requests: Math.max(
        0,
        record.completed_requests - (before?.completed_requests ?? 0),
      ),
      bytes_sent: Math.max(0, record.bytes_sent - (before?.bytes_sent ?? 0)),
      bytes_received: Math.max(0, record.bytes_received - (before?.bytes_received ?? 0)),
    };
    if (grown.completed_requests + grown.bytes_sent + grown.bytes_received > 0)
      growth[host] = grown;
  }
  return growth;
}

/** The counters with `growth` added; open requests are the receiver's own. */
export function withGrowth(record: StatsRecord | undefined, growth: CounterGrowth): StatsRecord {
  return {
    open_requests: record?.open_requests ?? 0,
    completed_requests: (record?.completed_requests ?? 0) + growth.completed_requests,
    bytes_sent: (record?.bytes_sent ?? 0) + growth.bytes_sent,
    bytes_received: (record?.bytes_received ?? 0) + growth.bytes_received,
  };
}

/** Requests in a growth, for the log. */
export function requestsIn(growth: Record<string, CounterGrowth>): number {
  let total = 0;
  for (const grown of Object.values(growth)) total += grown.completed_requests;
  return total;
}

/** Adds a predecessor's growth to the counters of `book`. */
export function carryInto(
  book: {
    get(host: string): { toJSON(): StatsRecord } | undefined;
    set(host: string, record: StatsRecord): void;
  },
  growth: Record<string, CounterGrowth>,
): void {
  for (const [host, grown] of Object.entries(growth)) {
    book.set(host, withGrowth(book.get(host)?.toJSON(), grown));
  }
}
