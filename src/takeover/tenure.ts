/**
 * A server's hold on its state file, from the lock to the exit: taken from
 * nobody or from a predecessor (`--takeover`), and handed to a successor. It
 * owns the lock, the store and the write gate, so that one process at a time
 * writes the state: the old one stops before it lets the lock go, and the new
 * one starts only once it is ready and the old one has stopped accepting.
 */
import type { Config } from "../config/config.ts";
import { log } from "../log.ts";
import type { Save } from "../rules/registry.ts";
import type { StatsBook, StatsRecord } from "../stats/host-stats.ts";
import { lockHolder, lockStateFileWithin, StateFileInUse, type StateLock } from "../store/lock.ts";
import type { LoadedState } from "../store/state-file.ts";
import type { StateStore } from "../store/state-log.ts";
import { VERSION } from "../version.ts";
import type { WireChange } from "../workers/messages.ts";
import { toWire } from "../workers/wire.ts";
import { arrive, openStore } from "./arrival.ts";
import type { Channel } from "./channel.ts";
import { heldAddresses } from "./claim-ports.ts";
import { counterGrowth, requestsIn } from "./counters.ts";
import { DEADLINES } from "./deadlines.ts";
import { HandoverDesk, type Outgoing } from "./handover-desk.ts";
import type { Predecessor } from "./predecessor.ts";
import { type CounterGrowth, type HeldListeners, takeoverSocketPath } from "./protocol.ts";
import { WriteGate, WritesPaused } from "./write-gate.ts";

/** The running server, as its tenure needs it once it serves. */
export interface Tenant {
  readonly ports: { bind: number[]; internal: number[]; tls?: number[]; management: number[] };
  readonly stats: StatsBook;
  /** Brings `stats` up to date (workers keep their own counters). */
  refreshStats?(): Promise<void>;
  /** Saves the counters, after the changes in flight. */
  flush(): Promise<void>;
  /** Adds what a predecessor counted after it saved its counters. */
  carry(growth: Record<string, CounterGrowth>): void;
  /** Rule changes made by the successor, for the requests still held here. */
  follow(changes: WireChange[]): void;
  /** Stops taking connections on the management API (the data plane stops with the server). */
  stopAccepting(): void;
}

export class Tenure {
  /** The API refuses changes while this is closed. */
  readonly gate = new WriteGate();
  private store: StateStore | null = null;
  /** True while this process may write the state. */
  private writable: boolean;
  /** The counters as last saved: what a successor has from the file. */
  private saved: Record<string, StatsRecord> = {};
  private tenant: Tenant | null = null;
  private desk: HandoverDesk | null = null;
  private successor: { pid: number; channel: Channel } | null = null;
  private predecessorDone: Promise<void> = Promise.resolve();
  private readonly handedOver = Promise.withResolvers<number>();

  private constructor(
    /** The config as given: a port 0 stays 0 here, to be matched by the next server. */
    private readonly configured: Config,
    /** The config to run with: every port fixed. */
    readonly config: Config,
    private lock: StateLock | null,
    private readonly predecessor: Predecessor | null,
  ) {
    this.writable = predecessor === null;
    if (predecessor !== null) {
      this.gate.close(
        `a takeover is under way: pid ${process.pid} is taking over from pid ${predecessor.pid}`,
      );
    }
  }

  /** Takes the state file: its free lock, or with `takeover` the running server's state. */
  static async begin(config: Config, takeover: boolean): Promise<Tenure> {
    const arrived = await arrive(config, takeover);
    return new Tenure(config, arrived.config, arrived.lock, arrived.predecessor);
  }

  /** Opens the store; what it held. */
  async open(): Promise<LoadedState> {
    this.store = await openStore(this.config.stateFile);
    return this.store.loaded;
  }

  /** Saves through the store while this process may write; refuses (503) while it may not. */
  readonly save: Save = async (changes, snapshot) => {
    if (!this.writable || this.store === null) {
      // Counters saved on a timer: the successor gets them when this process exits.
      if (changes.every((change) => change.kind === "none")) return;
      this.gate.check();
      throw new WritesPaused("this server no longer holds the state file");
    }
    await this.store.save(changes, () => {
      const whole = snapshot();
      this.saved = whole.stats;
      return whole;
    });
    this.predecessor?.follow(changes.flatMap(toWire));
  };

  /** Resolves with the successor's pid once one has taken over. */
  get superseded(): Promise<number> {
    return this.handedOver.promise;
  }

  /** The successor's pid once there is one. */
  get successorPid(): number | null {
    return this.successor?.pid ?? null;
  }

  /**
   * The server is up: with a predecessor, waits until it stops accepting, then
   * opens writes; in any case listens for a successor of its own.
   */
  async confirm(tenant: Tenant): Promise<void> {
    this.tenant = tenant;
    const predecessor = this.predecessor;
    if (predecessor !== null) {
      await predecessor.confirm();
      this.writable = true;
      this.gate.open();
      log.info(`took over from pid ${predecessor.pid}; it finishes its requests and exits`);
      this.predecessorDone = predecessor.lastCounters().then((growth) => {
        if (growth === null) {
          log.warn(`pid ${predecessor.pid} ended without passing on its last counters`);
          return;
        }
        tenant.carry(growth);
        const counted = requestsIn(growth);
        const more = counted > 0 ? `; its last ${counted} requests are counted here` : "";
        log.info(`pid ${predecessor.pid} has exited${more}`);
      });
    }
    this.desk = new HandoverDesk(takeoverSocketPath(this.config.stateFile), this.outgoing());
    await this.desk.open();
  }

  /** Before the server serves: lets the state go, and a predecessor carry on. */
  async abandon(error: unknown): Promise<void> {
    this.writable = false;
    this.desk?.close();
    await this.store?.close().catch(() => {});
    this.store = null;
    this.lock?.release();
    this.lock = null;
    this.predecessor?.giveUp(`pid ${process.pid} could not start: ${(error as Error).message}`);
  }

  /**
   * The server has stopped serving. Still the owner: saves the counters and
   * lets the lock go. Taken over: passes its counters since its last save on.
   */
  async end(flush: () => Promise<void>): Promise<void> {
    this.desk?.close();
    this.desk = null;
    await this.predecessorDone;
    const successor = this.successor;
    if (successor === null) {
      if (this.writable) await flush();
      await this.store?.close();
      this.store = null;
      this.lock?.release();
      this.lock = null;
      return;
    }
    await this.tenant?.refreshStats?.();
    const growth = counterGrowth(this.tenant?.stats.toJSON() ?? {}, this.saved);
    successor.channel.send({ type: "bye", counters: growth });
    successor.channel.close();
  }

  private outgoing(): Outgoing {
    return {
      version: VERSION,
      graceSeconds: this.config.shutdownGrace,
      listeners: () => this.listeners(),
      release: async (pid) => {
        this.gate.close(`a takeover is under way: this server is handing over to pid ${pid}`);
        try {
          await this.tenant!.flush();
        } catch (error) {
          this.gate.open();
          throw error;
        }
        this.writable = false;
        await this.store?.close();
        this.store = null;
        this.lock?.release();
        this.lock = null;
      },
      resume: async (pid) => {
        if (this.store === null) {
          this.lock ??= await this.lockBack(pid);
          this.store = await openStore(this.config.stateFile);
        }
        this.writable = true;
        this.gate.open();
      },
      commit: (pid, channel) => {
        this.successor = { pid, channel };
        this.gate.close(`this server has handed over to pid ${pid} and is stopping`);
        // The rule travels as workers receive it; whoever applies it parses it again.
        channel.listen((message) => {
          if (message.type === "changes") this.tenant?.follow(message.changes as WireChange[]);
        });
        this.tenant?.stopAccepting();
        log.info(
          `handed over to pid ${pid}: finishing the requests in flight ` +
            `(up to shutdown_grace, ${this.config.shutdownGrace} s), then exiting`,
        );
        this.handedOver.resolve(pid);
      },
    };
  }

  private listeners(): HeldListeners {
    const ports = this.tenant!.ports;
    return {
      bind: heldAddresses(this.configured.bind, ports.bind),
      internal: heldAddresses(this.configured.bindInternal, ports.internal),
      tls: heldAddresses(this.configured.bindTls, ports.tls ?? []),
      management: heldAddresses(this.configured.bindManagement, ports.management),
    };
  }

  /** The lock after a failed takeover; a successor that still holds it past the deadline is ended. */
  private async lockBack(pid: number): Promise<StateLock> {
    const path = this.config.stateFile;
    try {
      return await lockStateFileWithin(path, DEADLINES.lockBackMs);
    } catch (error) {
      if (!(error instanceof StateFileInUse) || lockHolder(path) !== pid) throw error;
    }
    log.warn(`pid ${pid} still holds ${path} after giving up its takeover: ending it`);
    process.kill(pid, "SIGKILL");
    return lockStateFileWithin(path, DEADLINES.lockBackMs);
  }
}
