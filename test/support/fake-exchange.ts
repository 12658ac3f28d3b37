/**
 * An `Exchange` without a connection behind it, for unit tests of actions and
 * of the relay: it parses a request from text and records every call made on
 * it, so a test can see what an action answered and what it holds on to.
 */
import type { BackendState } from "../../src/backend/state.ts";
import { DEFAULT_LIMITS } from "../../src/http/limits.ts";
import { parseRequestHead, RequestHead } from "../../src/http/request-head.ts";
import type { BodySink, Exchange, ExchangeListener } from "../../src/proxy/exchange.ts";
import { canonicalHost } from "../../src/rules/host.ts";
import type { Protocol } from "../../src/rules/table.ts";
import type { HostStats } from "../../src/stats/host-stats.ts";

export class FakeExchange implements Exchange {
  readonly head = new RequestHead();
  readonly headBytes: Buffer;
  readonly host: string;
  protocol: Protocol = "http";
  internal = false;
  clientAddress = "192.0.2.7";
  keepAlive: boolean;
  readonly isHeadRequest: boolean;
  stats: HostStats | null = null;
  ruleKey: string | null = null;
  attempts = 0;
  /** What `noteResponse` was told. */
  noted: { status: number; backend: string; attempts: number } | null = null;
  closed = false;
  bodyDone = true;

  listener: ExchangeListener | null = null;
  deadline: { seconds: number; then: () => void } | null = null;
  /** Whole responses given to `respond`, as text. */
  readonly responses: string[] = [];
  /** Bytes given to `send`, as text, in order. */
  readonly sent: string[] = [];
  /** What `send` returns: false plays a full client socket. */
  sendAccepts = true;
  finished: { reusable: boolean } | null = null;
  aborted = false;
  ended = false;
  held = false;
  sink: BodySink | null = null;
  upgradedWith: ((bytes: Buffer) => boolean) | null = null;

  constructor(request: string) {
    this.headBytes = Buffer.from(request, "latin1");
    const length = parseRequestHead(
      this.headBytes,
      0,
      this.headBytes.length,
      this.head,
      DEFAULT_LIMITS,
    );
    if (length <= 0) throw new Error(`not a whole request head: ${JSON.stringify(request)}`);
    this.host = canonicalHost(this.head.host);
    this.keepAlive = this.head.keepAlive;
    this.isHeadRequest = this.head.method === "HEAD";
  }

  /** Every byte that reached the client, responses and streamed parts, as text. */
  get output(): string {
    return this.responses.join("") + this.sent.join("");
  }

  /** Plays the deadline passing. */
  fireDeadline(): void {
    const deadline = this.deadline;
    if (deadline === null) throw new Error("no deadline is set");
    this.deadline = null;
    deadline.then();
  }

  listen(listener: ExchangeListener): void {
    this.listener = listener;
  }

  setDeadline(seconds: number, then: () => void): void {
    this.deadline = { seconds, then };
  }

  clearDeadline(): void {
    this.deadline = null;
  }

  forwardingLines(): string {
    return `X-Forwarded-For: ${this.clientAddress}\r\nX-Forwarded-Proto: http\r\n`;
  }

  noteResponse(status: number, backend: BackendState, attempts: number): void {
    this.noted = { status, backend: backend.key, attempts };
  }

  respond(response: Uint8Array): void {
    this.listener = null;
    this.deadline = null;
    this.responses.push(Buffer.from(response).toString("latin1"));
  }

  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
  }

  streamBody(sink: BodySink): void {
    this.sink = sink;
  }

  sinkResumed(): void {}

  takeWholeBody(): Buffer | null {
    return null;
  }

  send(bytes: Uint8Array): boolean {
    this.sent.push(Buffer.from(bytes).toString("latin1"));
    return this.sendAccepts;
  }

  finish(reusable: boolean): void {
    this.listener = null;
    this.deadline = null;
    this.finished = { reusable };
  }

  abort(): void {
    this.listener = null;
    this.deadline = null;
    this.aborted = true;
  }

  end(): void {
    this.ended = true;
  }

  upgrade(fromClient: (bytes: Buffer) => boolean): void {
    this.upgradedWith = fromClient;
  }

  resumeTunnel(): void {}
}
