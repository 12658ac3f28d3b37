/**
 * The running server's side of a takeover: it listens on the socket beside
 * the state file (mode 0600: only its own user, or root, may ask) and walks one
 * successor at a time through the steps of protocol.ts. Until the successor
 * says it is ready, any failure of its (a deadline, a crash, an abort) gives
 * the server its state file back and it carries on as before.
 */
import { rm } from "node:fs/promises";
import net from "node:net";
import { log } from "../log.ts";
import { Channel } from "./channel.ts";
import { DEADLINES } from "./deadlines.ts";
import type { HeldListeners } from "./protocol.ts";

/** The running server, as a takeover needs it. */
export interface Outgoing {
  listeners(): HeldListeners;
  readonly graceSeconds: number;
  readonly version: string;
  /** Saves every acknowledged change and the counters, refuses writes, lets the lock go. */
  release(successor: number): Promise<void>;
  /** Takes the lock and the store back after a failed takeover. */
  resume(successor: number): Promise<void>;
  /** The successor serves: stop accepting, finish what is open, pass the counters on. */
  commit(successor: number, channel: Channel): void;
}

export class HandoverDesk {
  private server: net.Server | null = null;
  /** The pid of the successor being handled, if any. */
  private busyWith: number | null = null;

  constructor(
    private readonly path: string,
    private readonly outgoing: Outgoing,
  ) {}

  /** Listens for a successor; a socket that cannot be made costs only takeovers, so it is logged. */
  async open(): Promise<void> {
    // This process holds the state file's lock, so a socket left here is a dead server's.
    await rm(this.path, { force: true });
    const server = net.createServer((socket) => void this.receive(new Channel(socket)));
    const umask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(this.path, () => resolve());
      });
      this.server = server;
      server.on("error", (error) => log.warn(`takeover socket ${this.path}: ${error.message}`));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      log.warn(`cannot listen on ${this.path} (${code}): mantrid serve --takeover will not work`);
    } finally {
      process.umask(umask);
    }
  }

  /** Stops listening (and removes the socket); a conversation under way goes on. */
  close(): void {
    this.server?.close();
    this.server = null;
  }

  private async receive(channel: Channel): Promise<void> {
    if (this.busyWith !== null) {
      const who = this.busyWith === 0 ? "another process" : `pid ${this.busyWith}`;
      channel.send({ type: "refused", reason: `${who} is taking over already` });
      channel.close();
      return;
    }
    this.busyWith = 0;
    let committed = false;
    try {
      committed = await this.converse(channel);
    } catch (error) {
      log.error(`takeover: ${(error as Error).message}`);
    } finally {
      if (!committed) this.busyWith = null;
    }
  }

  /** Resolves true once the successor has taken over. */
  private async converse(channel: Channel): Promise<boolean> {
    const hello = await channel.next(["hello"], DEADLINES.greetingMs, "hello").catch(() => null);
    if (hello === null) {
      channel.close();
      return false;
    }
    const pid = hello.pid;
    this.busyWith = pid;
    channel.send({
      type: "welcome",
      pid: process.pid,
      version: this.outgoing.version,
      graceSeconds: this.outgoing.graceSeconds,
      listeners: this.outgoing.listeners(),
    });
    // The successor may still find it cannot listen where it should, and say so.
    const asked = await channel
      .next(["release"], DEADLINES.decidingMs, "release")
      .catch(() => null);
    if (asked === null) {
      channel.close();
      return false;
    }
    log.info(`pid ${pid} (mantrid ${hello.version}) is taking over: saving the state for it`);
    this.close();
    try {
      await this.outgoing.release(pid);
    } catch (error) {
      channel.abort(`the old server could not save its state: ${(error as Error).message}`);
      await this.takeBack(pid, `cannot save the state: ${(error as Error).message}`);
      return false;
    }
    channel.send({ type: "released" });
    try {
      await channel.next(["ready"], DEADLINES.readyMs, "ready");
    } catch (error) {
      channel.abort(`the takeover was given up: ${(error as Error).message}`);
      await this.takeBack(pid, (error as Error).message);
      return false;
    }
    this.outgoing.commit(pid, channel);
    channel.send({ type: "committed" });
    return true;
  }

  private async takeBack(pid: number, reason: string): Promise<void> {
    log.warn(`the takeover by pid ${pid} failed (${reason}): taking the state file back`);
    try {
      await this.outgoing.resume(pid);
      log.info("carrying on as before: the state file is ours again and rule changes are accepted");
    } catch (error) {
      log.error(
        `cannot take the state file back: ${(error as Error).message}; traffic is still ` +
          "served, but rule changes are refused until this server is restarted",
      );
      return;
    }
    await this.open();
  }
}
