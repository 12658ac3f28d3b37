/**
 * Gets a backend connection for one request. The rule's policy chooses among
 * the eligible members: usable (healthy, not drained), primaries before
 * backups, not yet tried for this request, below their `max_conns`. An idle
 * pooled connection is taken or a new one opened within `connect_timeout`.
 * A failed attempt moves on at once to a member not yet tried; once every
 * usable member has been tried, the next round starts `delay` seconds later,
 * up to `attempts` in all. With every member full the request queues (up to
 * `queue_timeout`, then 503); with none usable it is held (`when_all_down:
 * spin`, up to `spin_timeout`, then 504) or answered 502 at once (`fail`).
 * Its waits are the request's deadline, so it arms no timer of its own.
 */
import type { Member, PickRequest, Policy } from "../balance/policy.ts";
import { log } from "../log.ts";
import { clock } from "../proxy/clock.ts";
import type { Exchange } from "../proxy/exchange.ts";
import type { PassiveOptions } from "../rules/options.ts";
import type { BackendConnection } from "./connection.ts";
import { reportFailure } from "./passive.ts";
import type { BackendPool } from "./pool.ts";
import type { BackendStates } from "./state.ts";
import type { BackendWaits, Waiter } from "./waits.ts";

/** Every attempt was refused or broke, or no backend is usable: 502. */
export const REFUSED = 502;
/** Every backend was full for `queue_timeout`: 503. */
export const FULL = 503;
/** The last attempt did not connect in time, or a held request's time ran out: 504. */
export const TIMED_OUT = 504;

export interface ConnectPlan {
  readonly members: readonly Member[];
  readonly policy: Policy;
  readonly attempts: number;
  /** Seconds between rounds over every usable member. */
  readonly delay: number;
  /** Seconds a request may wait for a member below its `max_conns`. */
  readonly queueTimeout: number;
  /** With no member usable: hold the request (`spin`) or answer at once (`fail`). */
  readonly whenAllDown: "spin" | "fail";
  /** Seconds a request may be held under `spin`. */
  readonly spinTimeout: number;
  /** The value a `hash` policy hashes on. */
  readonly hashKey: (exchange: Exchange) => string;
  /** Passive ejection, when the rule asks for it. */
  readonly passive: PassiveOptions | null;
  /** Whether any member is a backup (else the backup tier is never asked). */
  readonly hasBackups: boolean;
}

export interface ConnectListener {
  connected(connection: BackendConnection, member: Member): void;
  /** No connection: `status` is REFUSED, FULL or TIMED_OUT. */
  failed(status: number): void;
}

export interface ConnectorSettings {
  readonly pool: BackendPool;
  readonly states: BackendStates;
  readonly waits: BackendWaits;
  /** Seconds to open a backend connection. */
  readonly connectTimeout: number;
}

const NOT_WAITING = 0;
const QUEUED = 1;
const HELD = 2;

export class Connector implements PickRequest, Waiter {
  private exchange!: Exchange;
  private plan!: ConnectPlan;
  private attempt = 0;
  /** Tells a late connect result from the current one. */
  private generation = 0;
  /** Members tried in this round, by index. */
  private tried = new Uint8Array(8);
  private target = -1;
  private lastStatus = REFUSED;
  private waiting = NOT_WAITING;
  /** When this request's wait for a backend ends, however often it is woken (0: not waiting yet). */
  private waitUntil = 0;
  private readonly onTimedOut = () => this.attemptFailed(TIMED_OUT, "timed out");
  private readonly onDelayOver = () => this.next(false);
  private readonly onWaitOver = () => this.waitOver();
  private readonly primary = (index: number) => this.eligible(index, false);
  private readonly backup = (index: number) => this.eligible(index, true);

  constructor(
    private readonly settings: ConnectorSettings,
    private readonly listener: ConnectListener,
  ) {}

  start(exchange: Exchange, plan: ConnectPlan): void {
    this.exchange = exchange;
    this.plan = plan;
    this.attempt = 0;
    this.waitUntil = 0;
    this.newRound();
    this.next(false);
  }

  /** Attempts made for this request so far. */
  get attempts(): number {
    return this.attempt;
  }

  hashKey(): string {
    return this.plan.hashKey(this.exchange);
  }

  /**
   * A pooled connection the backend had already closed: once more to the same
   * member on a fresh connection, without counting an attempt.
   */
  retryFresh(): void {
    this.connect(this.target, true);
  }

  /** Nothing more is wanted: a connection still opening goes to the pool when it opens. */
  cancel(): void {
    this.generation++;
    this.stopWaiting();
  }

  wake(): void {
    if (!this.anyEligible()) return;
    this.stopWaiting();
    this.exchange.clearDeadline();
    this.exchange.release();
    this.next(false);
  }

  private eligible(index: number, backup: boolean): boolean {
    const member = this.plan.members[index]!;
    const state = member.state;
    return (
      member.backup === backup &&
      state.usable &&
      this.tried[index] === 0 &&
      (member.maxConns === 0 || state.active < member.maxConns)
    );
  }

  private choose(): number {
    const { policy, hasBackups } = this.plan;
    const index = policy.pick(this, this.primary);
    return index >= 0 || !hasBackups ? index : policy.pick(this, this.backup);
  }

  private anyEligible(): boolean {
    const count = this.plan.members.length;
    for (let i = 0; i < count; i++) if (this.primary(i) || this.backup(i)) return true;
    return false;
  }

  private newRound(): void {
    const count = this.plan.members.length;
    if (this.tried.length < count) this.tried = new Uint8Array(count);
    else this.tried.fill(0, 0, count);
  }

  private next(freshOnly: boolean): void {
    const index = this.choose();
    if (index < 0) return this.noneEligible();
    this.attempt++;
    this.tried[index] = 1;
    this.connect(index, freshOnly);
  }

  private connect(index: number, freshOnly: boolean): void {
    this.target = index;
    const member = this.plan.members[index]!;
    const { pool, connectTimeout } = this.settings;
    const pooled = freshOnly ? null : pool.take(member.address.poolKey);
    if (pooled !== null) return this.listener.connected(pooled, member);
    this.exchange.setDeadline(connectTimeout, this.onTimedOut);
    const generation = ++this.generation;
    pool.connect(member.address).then((result) => {
      if (generation !== this.generation) {
        // Too late for this request: a fresh connection is still worth keeping.
        if (!("error" in result)) pool.give(result);
        return;
      }
      this.exchange.clearDeadline();
      if (!("error" in result)) {
        this.settings.states.connected(member.state);
        this.listener.connected(result, member);
      } else this.attemptFailed(REFUSED, result.code === "ECONNREFUSED" ? "refused" : result.error);
    });
  }

  private attemptFailed(status: number, why: string): void {
    const member = this.plan.members[this.target]!;
    const { attempts } = this.plan;
    log.debug(`backend ${member.address.key} ${why} (attempt ${this.attempt} of ${attempts})`);
    this.settings.states.connectFailed(member.state, why);
    this.generation++;
    this.lastStatus = status;
    this.failedOn(member);
    if (this.attempt >= attempts) return this.allFailed();
    this.next(false);
  }

  /** A connect failure, or a reset before the response head: it counts against the member. */
  failedOn(member: Member): void {
    reportFailure(this.settings.states, member.state, this.plan.passive, Date.now());
  }

  /** Nothing to choose now: every usable member tried, or full, or none usable. */
  private noneEligible(): void {
    const { members, attempts, delay } = this.plan;
    let usable = false;
    let untried = false;
    for (let i = 0; i < members.length; i++) {
      if (!members[i]!.state.usable) continue;
      usable = true;
      if (this.tried[i] === 0) untried = true;
    }
    if (!usable) return this.allDown();
    // Usable, not tried, yet not eligible: every one is at its max_conns.
    if (untried) return this.wait(QUEUED, this.plan.queueTimeout);
    if (this.attempt >= attempts) return this.allFailed();
    this.newRound();
    if (delay === 0) this.next(false);
    else this.exchange.setDeadline(delay, this.onDelayOver);
  }

  private allDown(): void {
    if (this.plan.whenAllDown === "spin") return this.wait(HELD, this.plan.spinTimeout);
    this.listener.failed(REFUSED);
  }

  /** Every attempt failed. Under `spin` the request is held for a backend to come back. */
  private allFailed(): void {
    if (this.plan.whenAllDown !== "spin") return this.listener.failed(this.lastStatus);
    this.attempt = 0;
    this.newRound();
    this.wait(HELD, this.plan.spinTimeout);
  }

  private wait(kind: number, seconds: number): void {
    // Woken and back again: the first wait's deadline still holds.
    const first = this.waitUntil === 0;
    if (first) this.waitUntil = clock.now + seconds * 1000;
    this.waiting = kind;
    this.exchange.hold();
    this.settings.waits.add(this);
    // The first wait gets its seconds as given (no round trip through the clock's float).
    const left = first ? seconds : Math.max(0, this.waitUntil - clock.now) / 1000;
    this.exchange.setDeadline(left, this.onWaitOver);
  }

  private waitOver(): void {
    const kind = this.waiting;
    this.stopWaiting();
    this.exchange.release();
    this.listener.failed(kind === QUEUED ? FULL : TIMED_OUT);
  }

  private stopWaiting(): void {
    if (this.waiting === NOT_WAITING) return;
    this.waiting = NOT_WAITING;
    this.settings.waits.delete(this);
  }
}
