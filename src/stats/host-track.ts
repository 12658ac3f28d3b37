/** The rate sampler's record of one host's counters (kept on its HostStats). */
import { type Change, changeOf } from "./rate-ring.ts";

/** The cumulative counters a host's rates are the differences of. */
export interface HostCounters {
  readonly completed_requests: number;
  readonly bytes_sent: number;
  readonly bytes_received: number;
}

/** A host's counters as the last sample saw them, and what ended requests added since. */
export class HostTrack {
  private requests = 0;
  private sent = 0;
  private received = 0;
  errors = 0;
  latencyMs = 0;
  timed = 0;

  /** `from`: counters to start from (null: zeros, for a host that had counted nothing). */
  constructor(from: HostCounters | null) {
    if (from === null) return;
    this.requests = from.completed_requests;
    this.sent = from.bytes_sent;
    this.received = from.bytes_received;
  }

  /** What changed since the last sample of the host filed at `key`, or null when nothing did. */
  sample(stats: HostCounters, key: string): Change | null {
    const requests = stats.completed_requests - this.requests;
    const sent = stats.bytes_sent - this.sent;
    const received = stats.bytes_received - this.received;
    if (requests === 0 && sent === 0 && received === 0 && this.errors === 0 && this.timed === 0) {
      return null;
    }
    this.requests = stats.completed_requests;
    this.sent = stats.bytes_sent;
    this.received = stats.bytes_received;
    const change = changeOf(key, [
      requests,
      sent,
      received,
      this.errors,
      this.latencyMs,
      this.timed,
    ]);
    this.errors = 0;
    this.latencyMs = 0;
    this.timed = 0;
    return change;
  }
}
