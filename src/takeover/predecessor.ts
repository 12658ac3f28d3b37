/**
 * The new server's side of a takeover: the link to the server it takes over
 * from, found through the state file's lock. It asks for the state, says when
 * it is ready, then sends that server the rule changes made here (so requests
 * held there see them) and receives its last counters as it exits.
 */
import { readFileSync } from "node:fs";
import { VERSION } from "../version.ts";
import type { WireChange } from "../workers/messages.ts";
import { Channel, ChannelBroken } from "./channel.ts";
import { DEADLINES } from "./deadlines.ts";
import { type CounterGrowth, type HeldListeners, takeoverSocketPath } from "./protocol.ts";

/** A takeover that could not be done; the old server carries on. One line for the operator. */
export class TakeoverFailed extends Error {
  override name = "TakeoverFailed";
}

export class Predecessor {
  private committed = false;
  private readonly farewell = Promise.withResolvers<Record<string, CounterGrowth> | null>();

  private constructor(
    private readonly channel: Channel,
    readonly pid: number,
    readonly version: string,
    readonly graceSeconds: number,
    readonly listeners: HeldListeners,
  ) {}

  /** Greets the server holding `stateFile`'s lock (`holder`, as its lock file says). */
  static async reach(stateFile: string, holder: number | null): Promise<Predecessor> {
    const who = holder === null ? "the server holding it" : `pid ${holder}`;
    const failed = (why: string) =>
      new TakeoverFailed(`cannot take over from ${who} (state file ${stateFile}): ${why}`);
    const path = takeoverSocketPath(stateFile);
    let channel: Channel;
    try {
      channel = await Channel.connect(path, DEADLINES.greetingMs);
    } catch (error) {
      throw failed(`${(error as Error).message}; is it a Mantrid without takeovers?`);
    }
    channel.send({ type: "hello", pid: process.pid, version: VERSION });
    try {
      const answer = await channel.next(["welcome", "refused"], DEADLINES.greetingMs, "welcome");
      if (answer.type === "refused") throw new ChannelBroken(answer.reason);
      return new Predecessor(
        channel,
        answer.pid,
        answer.version,
        answer.graceSeconds,
        answer.listeners,
      );
    } catch (error) {
      channel.close();
      throw failed((error as Error).message);
    }
  }

  /** Asks it to save everything and let the lock go; resolves once it has. */
  async release(): Promise<void> {
    this.channel.send({ type: "release" });
    await this.step(() => this.channel.next(["released"], DEADLINES.releaseMs, "released state"));
  }

  /**
   * Says this server is ready; resolves once the old one has stopped accepting.
   * An old server that goes away instead (a crash, a SIGTERM) leaves the state
   * to this one once it has exited; one that refuses makes this throw.
   */
  async confirm(): Promise<void> {
    this.channel.send({ type: "ready" });
    try {
      await this.channel.next(["committed"], DEADLINES.commitMs, "confirmation");
    } catch (error) {
      const refused = !(error instanceof ChannelBroken) || error.aborted || this.channel.isOpen;
      if (refused || !(await exited(this.pid, this.graceSeconds))) {
        throw new TakeoverFailed(
          `cannot take over from pid ${this.pid}: ${(error as Error).message}`,
        );
      }
    }
    this.committed = true;
    const timer = setTimeout(
      () => this.channel.close(),
      this.graceSeconds * 1000 + DEADLINES.farewellMarginMs,
    );
    this.channel.listen((message) => {
      if (message.type === "bye") this.farewell.resolve(message.counters);
    });
    void this.channel.closed.then(() => {
      clearTimeout(timer);
      this.farewell.resolve(null);
    });
  }

  /** Changes made durable here, for the requests the old server still holds. */
  follow(changes: WireChange[]): void {
    if (this.committed && changes.length > 0) this.channel.send({ type: "changes", changes });
  }

  /** Its counters since it saved them, as it exits; null if it went without them. */
  lastCounters(): Promise<Record<string, CounterGrowth> | null> {
    if (!this.committed) return Promise.resolve(null);
    return this.farewell.promise;
  }

  /** Tells it why this takeover stops here; it carries on. */
  giveUp(reason: string): void {
    if (!this.committed && this.channel.isOpen) this.channel.abort(reason);
  }

  private async step<T>(wait: () => Promise<T>): Promise<T> {
    try {
      return await wait();
    } catch (error) {
      this.channel.close();
      throw new TakeoverFailed(
        `cannot take over from pid ${this.pid}: ${(error as Error).message}`,
      );
    }
  }
}

/** Waits (up to its grace and a margin) for a process to be gone; true once it is. */
async function exited(pid: number, graceSeconds: number): Promise<boolean> {
  const deadline = performance.now() + graceSeconds * 1000 + DEADLINES.farewellMarginMs;
  // No event tells another process's end: its /proc entry is looked at now and then.
  while (performance.now() < deadline) {
    if (gone(pid)) return true;
    await Bun.sleep(50);
  }
  return gone(pid);
}

/** A process that no longer runs: no /proc entry, or a zombie waiting for its parent. */
function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state === "Z" || state === "X";
  } catch {
    return true;
  }
}
