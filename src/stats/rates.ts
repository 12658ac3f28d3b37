/**
 * Live rates of one data plane. Once a second the book reads the cumulative
 * counters of every host (`HostStats`) and backend (`BackendState`) and files
 * what changed in a `RateRing`; the request path does nothing more for it
 * than tell its observers how each request ended (errors, times).
 * A host's bytes count as they flow, so a long download shows while it runs.
 */
import type { BackendState, BackendStates } from "../backend/state.ts";
import type { HostStats, StatsBook } from "./host-stats.ts";
import { HostTrack } from "./host-track.ts";
import { addTotals, type Change, changeOf, RateRing, type Totals } from "./rate-ring.ts";
import type { RequestEnd, RequestObserver } from "./request-end.ts";

export const SAMPLE_MS = 1000;

/** Each host's and backend's totals over the windows; only those that changed in the last minute. */
export interface RateReport {
  hosts: Record<string, Totals>;
  backends: Record<string, Totals>;
}

/** A backend's request and failure counts as last sampled; bytes and times of requests it answered since. */
class BackendTrack {
  private requests: number;
  private failures: number;
  sent = 0;
  received = 0;
  latencyMs = 0;
  timed = 0;

  constructor(
    readonly key: string,
    from: BackendState | null,
  ) {
    this.requests = from?.requests ?? 0;
    this.failures = from?.failures ?? 0;
  }

  sample(state: BackendState): Change | null {
    const requests = state.requests - this.requests;
    const failures = state.failures - this.failures;
    const quiet = requests === 0 && failures === 0 && this.sent === 0 && this.received === 0;
    if (quiet && this.timed === 0) return null;
    this.requests = state.requests;
    this.failures = state.failures;
    const change = changeOf(this.key, [
      requests,
      this.sent,
      this.received,
      failures,
      this.latencyMs,
      this.timed,
    ]);
    this.sent = 0;
    this.received = 0;
    this.latencyMs = 0;
    this.timed = 0;
    return change;
  }
}

/** Counters set back (a reset) count nothing rather than less than nothing. */

export class RateBook implements RequestObserver {
  private readonly hostRing: RateRing;
  private readonly backendRing: RateRing;
  private readonly backendTracks = new Map<BackendState, BackendTrack>();

  /** `now`: milliseconds on any steady clock (tests give their own). */
  constructor(
    private readonly stats: StatsBook,
    private readonly backends: BackendStates,
    private readonly now: () => number = () => performance.now(),
  ) {
    const at = now();
    this.hostRing = new RateRing(at);
    this.backendRing = new RateRing(at);
    // What was counted before (counters from the state file) is no rate: rates start here.
    for (const host of stats.byHost.values()) {
      if (!untouched(host)) host.rateTrack = new HostTrack(host);
    }
    for (const state of backends.all()) {
      this.backendTracks.set(state, new BackendTrack(state.key, state));
    }
  }

  requestEnded(request: RequestEnd): void {
    // An upgraded connection's time is how long the tunnel stayed open, no latency.
    const ms = request.status === 101 ? -1 : request.endedAt - request.startedAt;
    const stats = request.stats;
    if (stats !== null) {
      // A host with no track had counted nothing: it starts from zero, as its counters did.
      let track = stats.rateTrack;
      if (track === null) {
        track = new HostTrack(null);
        stats.rateTrack = track;
      }
      if (request.status >= 500 || !request.completed) track.errors++;
      if (ms >= 0) {
        track.latencyMs += ms;
        track.timed++;
      }
    }
    const backend = request.backend;
    if (backend !== null) {
      const track = this.backendTrack(backend);
      track.sent += request.bytesOut;
      track.received += request.bytesIn;
      if (ms >= 0) {
        track.latencyMs += ms;
        track.timed++;
      }
    }
  }

  /** Takes one sample: what changed since the last one goes into the ring. */
  tick(): void {
    const at = this.now();
    const hosts: Change[] = [];
    // forEach hands out key and value without making an entry array for each host.
    this.stats.byHost.forEach((stats, key) => {
      let track = stats.rateTrack;
      if (track === null) {
        // A host that never had traffic needs no track until it has.
        if (untouched(stats)) return;
        track = new HostTrack(null);
        stats.rateTrack = track;
      }
      const change = track.sample(stats, key);
      if (change !== null) hosts.push(change);
    });
    this.hostRing.record(hosts, at);
    const backends: Change[] = [];
    for (const state of this.backends.all()) {
      const change = this.backendTrack(state).sample(state);
      if (change !== null) backends.push(change);
    }
    this.backendRing.record(backends, at);
  }

  /** Samples every second until the returned function is called. */
  start(): () => void {
    const timer = setInterval(() => this.tick(), SAMPLE_MS);
    timer.unref();
    return () => clearInterval(timer);
  }

  report(): RateReport {
    return {
      hosts: this.hostRing.totals(),
      backends: this.backendRing.totals(),
    };
  }

  private backendTrack(state: BackendState): BackendTrack {
    let track = this.backendTracks.get(state);
    if (track === undefined) {
      // New since the last sample: from zero, as its counters started.
      track = new BackendTrack(state.key, null);
      this.backendTracks.set(state, track);
    }
    return track;
  }
}

/** Counters still at zero: as a host with no track starts from. */
function untouched(stats: HostStats): boolean {
  return stats.completed_requests === 0 && stats.bytes_sent === 0 && stats.bytes_received === 0;
}

/** The sum of several processes' reports (the workers of a primary). */
export function addReports(reports: readonly RateReport[]): RateReport {
  const hosts: Record<string, Totals> = {};
  const backends: Record<string, Totals> = {};
  for (const report of reports) {
    addInto(hosts, report.hosts);
    addInto(backends, report.backends);
  }
  return { hosts, backends };
}

function addInto(total: Record<string, Totals>, more: Record<string, Totals>): void {
  for (const [key, totals] of Object.entries(more)) {
    const sum = total[key];
    if (sum === undefined) total[key] = [...totals];
    else addTotals(sum, totals);
  }
}
