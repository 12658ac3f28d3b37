/**
 * The active check of one backend address with one set of settings: every
 * `interval` seconds, `GET <path>` over a fresh connection, and only the status
 * line of the answer is read. `rise` passes in a row bring a down backend up,
 * `fall` failures in a row take an up one down.
 *
 * Checks never overlap: the next one starts `interval` seconds after the
 * previous one ENDED (the first after a random part of `interval`, so checkers
 * started together spread out). One timer serves both waits, the pause between
 * checks and the deadline of the check in flight, as they never overlap either.
 * An `https://` backend is checked over TLS, its certificate checked as its rule says.
 */
import type { Socket } from "bun";
import { formatAddress } from "../config/address.ts";
import type { BackendAddress } from "./address.ts";
import type { BackendState, BackendStates, CheckResult, Health } from "./state.ts";
import { handshakeFailure } from "./tls.ts";

/** The settings of an active check, defaults filled (see `checkSettings`). */
export interface CheckSettings {
  readonly path: string;
  /** Seconds from the end of one check to the start of the next. */
  readonly interval: number;
  /** Seconds for the whole check: connect, send, and the status line back. */
  readonly timeout: number;
  readonly rise: number;
  readonly fall: number;
  /** A status, or a class such as "2xx". */
  readonly expect: number | string;
  /** The Host header; null: the backend's `host:port`. */
  readonly host: string | null;
}

/** Whether `status` is what `expect` asks for: that status, or one of its class ("2xx"). */
export function statusMatches(expect: number | string, status: number): boolean {
  if (typeof expect === "number") return status === expect;
  return Math.floor(status / 100) === expect.charCodeAt(0) - 0x30;
}

/** Bytes read at most while looking for the end of the status line. */
const MAX_STATUS_LINE = 1024;
const STATUS_LINE = /^HTTP\/1\.[01] ([1-5]\d\d)(?: |$)/;

/** One check in flight. */
interface Probe {
  readonly started: number;
  /** The backend's health when the check began. */
  readonly began: Health;
  socket: Socket<undefined> | null;
  /** What the write did not take yet. */
  unsent: Uint8Array | null;
  /** The answer so far, until the end of its status line. */
  received: Buffer | null;
  done: boolean;
}

export class HealthCheck {
  readonly state: BackendState;
  private readonly request: Uint8Array;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private probe: Probe | null = null;
  private running = false;
  private stopped = false;
  private successes = 0;
  private failures = 0;
  /** The health as this checker last left it, to notice a change made elsewhere. */
  private seen: Health;
  private readonly onWaitOver = () => this.run();
  private readonly onDeadline = () => {
    if (this.probe !== null)
      this.finish(this.probe, 0, `timed out after ${this.settings.timeout} s`);
  };

  constructor(
    private readonly states: BackendStates,
    readonly address: BackendAddress,
    readonly settings: CheckSettings,
    /** Told of each check's result, before it counts toward rise or fall. */
    private readonly onChecked?: (result: CheckResult) => void,
  ) {
    this.state = states.get(address.key);
    this.seen = this.state.health;
    const host = settings.host ?? formatAddress(address.host, address.port);
    this.request = new TextEncoder().encode(
      `GET ${settings.path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n` +
        "User-Agent: mantrid-health-check\r\n\r\n",
    );
  }

  /** Starts checking; the first check comes within one interval. */
  start(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    this.wait(Math.random() * this.settings.interval * 1000);
  }

  /** Stops for good: the check in flight is dropped, its socket closed, nothing fires after. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const probe = this.probe;
    this.probe = null;
    if (probe === null) return;
    probe.done = true;
    probe.socket?.terminate();
  }

  private wait(ms: number): void {
    this.timer = setTimeout(this.onWaitOver, ms);
    this.timer.unref();
  }

  private run(): void {
    this.timer = null;
    if (this.stopped) return;
    const probe: Probe = {
      started: performance.now(),
      began: this.state.health,
      socket: null,
      unsent: null,
      received: null,
      done: false,
    };
    this.probe = probe;
    this.timer = setTimeout(this.onDeadline, this.settings.timeout * 1000);
    this.timer.unref();
    try {
      this.connect(probe);
    } catch (error) {
      this.finish(probe, 0, connectFailure(error as Error));
    }
  }

  private connect(probe: Probe): void {
    const tls = this.address.tls;
    if (tls?.refusal) return this.finish(probe, 0, tls.refusal);
    Bun.connect({
      hostname: this.address.host,
      port: this.address.port,
      ...(tls === null ? {} : { tls: tls.options }),
      socket: {
        open: (socket) => {
          // Stopped, or timed out, while connecting.
          if (probe.done) return socket.terminate();
          probe.socket = socket;
          // Over TLS the request waits for the handshake.
          if (tls === null) send(probe, this.request);
        },
        handshake: (_socket, success, error) => {
          if (!success) return this.finish(probe, 0, handshakeFailure(error));
          if (!probe.done) send(probe, this.request);
        },
        drain: (_socket) => {
          if (probe.unsent !== null) send(probe, probe.unsent);
        },
        data: (_socket, chunk) => this.received(probe, chunk),
        end: () => this.finish(probe, 0, "closed before the status line"),
        close: (_socket, error) =>
          this.finish(probe, 0, error?.message ?? "closed before the status line"),
        error: (_socket, error) => this.finish(probe, 0, error.message),
        connectError: (_socket, error) => this.finish(probe, 0, connectFailure(error)),
      },
    }).catch((error: Error) => this.finish(probe, 0, connectFailure(error)));
  }

  private received(probe: Probe, chunk: Buffer): void {
    if (probe.done) return;
    const received = probe.received === null ? chunk : Buffer.concat([probe.received, chunk]);
    probe.received = received;
    const lf = received.indexOf(0x0a);
    if (lf < 0) {
      if (received.length > MAX_STATUS_LINE) this.finish(probe, 0, "status line too long");
      return;
    }
    const line = received.toString("latin1", 0, lf);
    const match = line.endsWith("\r") ? STATUS_LINE.exec(line.slice(0, -1)) : null;
    if (match === null) return this.finish(probe, 0, "bad status line");
    const status = Number(match[1]);
    const ok = statusMatches(this.settings.expect, status);
    this.finish(probe, status, ok ? undefined : `status ${status}`);
  }

  /** Ends a check once, whatever ended it: `error` absent is a pass. */
  private finish(probe: Probe, status: number, error: string | undefined): void {
    if (probe.done) return;
    probe.done = true;
    this.probe = null;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    probe.socket?.end();
    const ms = Math.round((performance.now() - probe.started) * 10) / 10;
    const result: CheckResult = { ok: error === undefined, status, ms, at: Date.now() };
    if (error !== undefined) result.error = error;
    this.state.check = result;
    this.onChecked?.(result);
    if (!this.stopped) this.count(probe, result);
    // A listener told of a change may have stopped this checker.
    if (!this.stopped) this.wait(this.settings.interval * 1000);
  }

  private count(probe: Probe, result: CheckResult): void {
    const { state, states, settings } = this;
    // Taken down elsewhere (passive ejection): passes from before do not count.
    if (state.health === "down" && this.seen === "up") this.successes = 0;
    if (result.ok) {
      this.failures = 0;
      // Nor does a pass of a check begun while the backend was still up.
      if (state.health === "up" || probe.began === "down") this.successes++;
      if (state.health === "down" && this.successes >= settings.rise) {
        state.ejectedUntil = 0;
        state.recentFailures.length = 0;
        states.setHealth(state, "up", `${checks(this.successes)} passed: status ${result.status}`);
      }
    } else {
      this.successes = 0;
      this.failures++;
      if (state.health === "up" && this.failures >= settings.fall) {
        states.setHealth(state, "down", `${checks(this.failures)} failed: ${result.error}`);
      }
    }
    this.seen = state.health;
  }
}

function send(probe: Probe, bytes: Uint8Array): void {
  const written = probe.socket!.write(bytes);
  probe.unsent = written < bytes.length ? bytes.subarray(Math.max(0, written)) : null;
}

function checks(count: number): string {
  return count === 1 ? "1 check" : `${count} checks`;
}

function connectFailure(error: Error): string {
  return (error as NodeJS.ErrnoException).code === "ECONNREFUSED" ? "refused" : error.message;
}
