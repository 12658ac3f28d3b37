/**
 * Traffic for takeover tests, as browsers make it: clients that open a new
 * connection per request, and keep-alive clients that reuse theirs. A keep-alive
 * client sends a request again, once, when its reused connection closed before
 * any byte of the answer (the server closed it as idle just as the request
 * left: HTTP lets a client retry then). Every other shortfall is a failure.
 */
import type { Socket } from "bun";
import { parseResponses } from "../support/wire.ts";

type Outcome =
  | { ok: true; status: number; body: string; close: boolean }
  | { ok: false; why: string; before: boolean };

/** Each request's own deadline: a stuck request is a failure, not a stuck test. */
const REQUEST_MS = 10_000;
/** The whole run's bounds, whatever the test does. */
const RUN_MS = 180_000;
const RUN_REQUESTS = 500_000;

class Connection {
  private received = Buffer.alloc(0);
  private waiting: ((outcome: Outcome) => void) | null = null;
  private closed = false;
  /** Answers received on it so far. */
  answered = 0;

  private constructor(private socket: Socket<undefined> | null) {}

  static async open(port: number): Promise<Connection> {
    const connection = new Connection(null);
    connection.socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data: (_socket, chunk) => connection.onData(chunk),
        close: () => connection.onClose(),
        error: () => connection.onClose(),
        connectError: () => {},
      },
    });
    return connection;
  }

  request(bytes: string): Promise<Outcome> {
    if (this.closed) return Promise.resolve({ ok: false, why: "closed", before: true });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        this.close();
        resolve({ ok: false, why: "no answer in time", before: this.received.length === 0 });
      }, REQUEST_MS);
      this.waiting = (outcome) => {
        clearTimeout(timer);
        resolve(outcome);
      };
      this.socket!.write(bytes);
    });
  }

  close(): void {
    this.closed = true;
    this.socket?.end();
  }

  private onData(chunk: Buffer): void {
    this.received = Buffer.concat([this.received, chunk]);
    const [response] = parseResponses(this.received);
    if (response === undefined || this.waiting === null) return;
    this.received = this.received.subarray(response.length);
    this.answered++;
    const waiting = this.waiting;
    this.waiting = null;
    waiting({
      ok: true,
      status: response.status,
      body: response.body.toString(),
      close: response.headers.connection?.toLowerCase() === "close",
    });
  }

  private onClose(): void {
    if (this.closed && this.waiting === null) return;
    this.closed = true;
    const waiting = this.waiting;
    this.waiting = null;
    const before = this.received.length === 0;
    waiting?.({ ok: false, why: before ? "closed before any byte" : "closed mid-answer", before });
  }
}

export interface LoadReport {
  ok: number;
  failures: string[];
  /** Requests sent again after a reused connection closed before answering. */
  retried: number;
}

export class Load {
  private readonly report: LoadReport = { ok: 0, failures: [], retried: 0 };
  private running = true;
  private readonly clients: Promise<void>[] = [];
  private readonly watchers: { target: number; resolve: () => void }[] = [];
  private readonly started = performance.now();

  constructor(
    private readonly port: number,
    private readonly host: string,
    /** The body every answer must have. */
    private readonly expected: string,
    counts: { fresh: number; keepAlive: number },
  ) {
    for (let i = 0; i < counts.fresh; i++) this.clients.push(this.freshClient());
    for (let i = 0; i < counts.keepAlive; i++) this.clients.push(this.keepAliveClient());
  }

  get ok(): number {
    return this.report.ok;
  }

  /** Resolves once `count` more requests have been answered. */
  progress(count: number): Promise<void> {
    const target = this.report.ok + count;
    return new Promise((resolve) => this.watchers.push({ target, resolve }));
  }

  async stop(): Promise<LoadReport> {
    this.running = false;
    await Promise.all(this.clients);
    for (const watcher of this.watchers.splice(0)) watcher.resolve();
    return this.report;
  }

  private get going(): boolean {
    const count = this.report.ok + this.report.failures.length;
    return this.running && count < RUN_REQUESTS && performance.now() - this.started < RUN_MS;
  }

  private async freshClient(): Promise<void> {
    const bytes = `GET / HTTP/1.1\r\nHost: ${this.host}\r\nConnection: close\r\n\r\n`;
    while (this.going) {
      const connection = await Connection.open(this.port).catch(() => null);
      if (connection === null) {
        this.fail("new connection refused");
        continue;
      }
      this.count(await connection.request(bytes), "new connection");
      connection.close();
    }
  }

  private async keepAliveClient(): Promise<void> {
    const bytes = `GET / HTTP/1.1\r\nHost: ${this.host}\r\n\r\n`;
    let connection: Connection | null = null;
    while (this.going) {
      connection ??= await Connection.open(this.port).catch(() => null);
      if (connection === null) {
        this.fail("keep-alive connection refused");
        continue;
      }
      let outcome = await connection.request(bytes);
      if (!outcome.ok && outcome.before && connection.answered > 0) {
        this.report.retried++;
        connection = await Connection.open(this.port).catch(() => null);
        outcome = connection
          ? await connection.request(bytes)
          : { ok: false, why: "refused on retry", before: true };
      }
      this.count(outcome, "keep-alive");
      if (!outcome.ok || outcome.close) {
        connection?.close();
        connection = null;
      }
    }
    connection?.close();
  }

  private count(outcome: Outcome, kind: string): void {
    if (!outcome.ok) return this.fail(`${kind}: ${outcome.why}`);
    if (outcome.status !== 200 || outcome.body !== this.expected) {
      return this.fail(`${kind}: ${outcome.status} ${outcome.body.slice(0, 80)}`);
    }
    this.report.ok++;
    for (let i = this.watchers.length - 1; i >= 0; i--) {
      if (this.report.ok >= this.watchers[i]!.target) this.watchers.splice(i, 1)[0]!.resolve();
    }
  }

  private fail(why: string): void {
    this.report.failures.push(why);
  }
}
