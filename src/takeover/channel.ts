/**
 * One takeover conversation over a unix socket: messages out, messages in,
 * each wait with its deadline. node:net queues what the socket cannot take
 * yet, so a large message (a whole rule set) needs no care of ours.
 */
import net from "node:net";
import { type Message, type MessageOf, type MessageType, parseMessage } from "./protocol.ts";

/** The other process broke off: it went away, missed a deadline, or said something wrong. */
export class ChannelBroken extends Error {
  override name = "ChannelBroken";

  constructor(
    message: string,
    /** The other process said `abort`: it is alive and gave up on purpose. */
    readonly aborted = false,
  ) {
    super(message);
  }
}

interface Waiter {
  resolve(message: Message): void;
  reject(error: Error): void;
}

export class Channel {
  private readonly queue: Message[] = [];
  private waiter: Waiter | null = null;
  private handler: ((message: Message) => void) | null = null;
  private pending: Buffer[] = [];
  private broken: ChannelBroken | null = null;
  private readonly ended = Promise.withResolvers<void>();

  constructor(private readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("error", (error) => this.break(`the connection failed: ${error.message}`));
    socket.on("close", () => this.break("the other process went away"));
  }

  /** Connects to a server's socket, within `deadlineMs`. */
  static connect(path: string, deadlineMs: number): Promise<Channel> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(path);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ChannelBroken(`no answer on ${path} within ${deadlineMs / 1000} s`));
      }, deadlineMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve(new Channel(socket));
      });
      socket.once("error", (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new ChannelBroken(`cannot connect to ${path}: ${error.code ?? error.message}`));
      });
    });
  }

  /** Resolves once the connection is closed, whoever closed it. */
  get closed(): Promise<void> {
    return this.ended.promise;
  }

  get isOpen(): boolean {
    return this.broken === null;
  }

  send(message: Message): void {
    if (this.broken === null) this.socket.write(`${JSON.stringify(message)}\n`);
  }

  /**
   * The next message, which must be one of `types`; an `abort` from the other
   * side, a silence past `deadlineMs` or a close rejects with ChannelBroken.
   */
  async next<T extends MessageType>(
    types: readonly T[],
    deadlineMs: number,
    what: string,
  ): Promise<MessageOf<T>> {
    const message = await this.take(deadlineMs, what);
    if (message.type === "abort") throw new ChannelBroken(message.reason, true);
    if (!(types as readonly string[]).includes(message.type)) {
      this.abort(`expected ${types.join(" or ")}, got ${message.type}`);
      throw new ChannelBroken(`the other process sent ${message.type} instead of ${what}`);
    }
    return message as MessageOf<T>;
  }

  /** From now on, every message goes to `handler` (those already waiting first). */
  listen(handler: (message: Message) => void): void {
    this.handler = handler;
    for (const message of this.queue.splice(0)) handler(message);
  }

  /** Says why, then closes. */
  abort(reason: string): void {
    this.send({ type: "abort", reason });
    this.close();
  }

  /** Closes once what was sent has gone out. */
  close(): void {
    this.socket.end();
    this.break("closed", false);
  }

  private take(deadlineMs: number, what: string): Promise<Message> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.broken !== null) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new ChannelBroken(`no ${what} within ${deadlineMs / 1000} s`));
      }, deadlineMs);
      this.waiter = {
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
    });
  }

  private receive(chunk: Buffer): void {
    let start = 0;
    let newline = chunk.indexOf(10);
    while (newline >= 0) {
      const line = Buffer.concat([...this.pending, chunk.subarray(start, newline)]).toString();
      this.pending = [];
      this.deliver(line);
      if (this.broken !== null) return;
      start = newline + 1;
      newline = chunk.indexOf(10, start);
    }
    if (start < chunk.length) this.pending.push(chunk.subarray(start));
  }

  private deliver(line: string): void {
    const message = parseMessage(line);
    if (typeof message === "string") {
      this.abort(`received ${message}`);
      return;
    }
    const waiter = this.waiter;
    this.waiter = null;
    if (waiter !== null) waiter.resolve(message);
    else if (this.handler !== null) this.handler(message);
    else this.queue.push(message);
  }

  private break(reason: string, destroy = true): void {
    if (this.broken !== null) return;
    this.broken = new ChannelBroken(reason);
    if (destroy) this.socket.destroy();
    this.waiter?.reject(this.broken);
    this.waiter = null;
    this.ended.resolve();
  }
}
