/**
 * Gets a backend connection for one request: the policy chooses a backend, an
 * idle pooled connection to it is taken or a new one opened within
 * `connect_timeout`, and after a failed attempt the next one follows `delay`
 * seconds later, up to `attempts`. Its waits are the request's deadline, so it
 * arms no timer of its own.
 */
import type { Member, PickRequest, Policy } from "../balance/policy.ts";
import { log } from "../log.ts";
import type { Exchange } from "../proxy/exchange.ts";
import type { BackendAddress } from "./address.ts";
import type { BackendConnection } from "./connection.ts";
import type { BackendPool } from "./pool.ts";

/** Every attempt was refused or broke: 502. */
export const REFUSED = 502;
/** The last attempt did not connect in time: 504. */
export const TIMED_OUT = 504;

export interface ConnectPlan {
  readonly members: readonly Member[];
  readonly policy: Policy;
  readonly attempts: number;
  /** Seconds between attempts. */
  readonly delay: number;
}

const NO_KEY: PickRequest = { hashKey: () => "" };

export interface ConnectListener {
  connected(connection: BackendConnection): void;
  /** Every attempt failed; `status` is REFUSED or TIMED_OUT. */
  failed(status: number): void;
}

export class Connector {
  private exchange!: Exchange;
  private plan!: ConnectPlan;
  private attempt = 0;
  /** Tells a late connect result from the current one. */
  private generation = 0;
  private target: BackendAddress | null = null;
  private readonly onTimedOut = () => this.attemptFailed(TIMED_OUT, "timed out");
  private readonly onDelayOver = () => this.next(false);

  constructor(
    private readonly pool: BackendPool,
    /** Seconds to open a backend connection. */
    private readonly connectTimeout: number,
    private readonly listener: ConnectListener,
  ) {}

  start(exchange: Exchange, plan: ConnectPlan): void {
    this.exchange = exchange;
    this.plan = plan;
    this.attempt = 0;
    this.next(false);
  }

  /**
   * A pooled connection the backend had already closed: once more on a fresh
   * one, without counting an attempt.
   */
  retryFresh(): void {
    this.attempt--;
    this.next(true);
  }

  /** Nothing more is wanted: a connection still opening goes to the pool when it opens. */
  cancel(): void {
    this.generation++;
  }

  private next(freshOnly: boolean): void {
    this.attempt++;
    const { members, policy } = this.plan;
    const index = policy.pick(NO_KEY, (i) => members[i]!.state.usable);
    const target = members[index < 0 ? 0 : index]!.address;
    const pooled = freshOnly ? null : this.pool.take(target.key);
    if (pooled !== null) return this.listener.connected(pooled);
    this.target = target;
    this.exchange.setDeadline(this.connectTimeout, this.onTimedOut);
    const generation = ++this.generation;
    this.pool.connect(target.host, target.port, target.key).then((result) => {
      if (generation !== this.generation) {
        // Too late for this request: a fresh connection is still worth keeping.
        if (!("error" in result)) this.pool.give(result);
        return;
      }
      this.exchange.clearDeadline();
      if (!("error" in result)) this.listener.connected(result);
      else this.attemptFailed(REFUSED, result.code === "ECONNREFUSED" ? "refused" : result.error);
    });
  }

  private attemptFailed(status: number, why: string): void {
    const { attempts, delay } = this.plan;
    log.debug(`backend ${this.target!.key} ${why} (attempt ${this.attempt} of ${attempts})`);
    this.generation++;
    if (this.attempt >= attempts) return this.listener.failed(status);
    if (delay === 0) this.next(false);
    else this.exchange.setDeadline(delay, this.onDelayOver);
  }
}
