/**
 * One request forwarded to a backend: pick a backend, take a pooled connection
 * or open one, send the rewritten head, stream the body both ways by its
 * framing, and hand the connection back to the pool when the exchange ended
 * cleanly. Failures before the response head become the `timeout` page (502
 * refused or broken, 504 timed out); after it, the client connection is closed
 * so a cut response never looks whole.
 */
import type { Exchange } from "../actions/exchange.ts";
import { BodyFramer } from "../http/body-framer.ts";
import type { HeadLimits } from "../http/limits.ts";
import { NEED_MORE } from "../http/request-head.ts";
import {
  BodyKind,
  parseResponseHead,
  ResponseHead,
  responseBodyKind,
} from "../http/response-head.ts";
import { log } from "../log.ts";
import type { Page } from "../static/pages.ts";
import type { BackendConnection, BackendUser } from "./backend-connection.ts";
import type { BackendPool } from "./backend-pool.ts";
import {
  backendRequestHead,
  clientResponseHead,
  clientResponseHeadInPlace,
  forwardedForOf,
  forwardingLines,
} from "./forward-head.ts";

export interface ForwardSettings {
  readonly pool: BackendPool;
  /** Seconds to open a backend connection. */
  readonly connectTimeout: number;
  /** Seconds to wait for a response head once the request is sent. */
  readonly backendTimeout: number;
  readonly timeoutPage: Page;
  readonly limits: HeadLimits;
}

export interface BackendAddress {
  readonly host: string;
  readonly port: number;
  /** `host:port`, the pool's key. */
  readonly key: string;
}

export interface ForwardPlan {
  readonly backends: readonly BackendAddress[];
  readonly attempts: number;
  /** Seconds between attempts. */
  readonly delay: number;
}

const CONNECTING = 0;
const AWAITING_HEAD = 1;
const STREAMING = 2;
const TUNNEL = 3;
const DONE = 4;

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);
/** Up to this many body bytes that arrive with a head are sent in the head's write. */
const INLINE_BODY = 16 * 1024;

/**
 * One per client connection, reused for each of its proxied requests (only one
 * is active at a time), so a request allocates no parser state of its own.
 */
export class Forward implements BackendUser {
  private exchange!: Exchange;
  private plan!: ForwardPlan;
  private state = DONE;
  private attempt = 0;
  /** Tells a late connect result from the current one. */
  private generation = 0;
  private backend: BackendConnection | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly response = new ResponseHead();
  private pending: Buffer | null = null;
  private readonly body = new BodyFramer();
  private bodySent = false;
  private responseStarted = false;
  private readonly sink = (bytes: Buffer) => {
    this.bodySent = true;
    return this.backend === null ? true : this.backend.write(bytes);
  };

  private readonly onClientGone = () => this.clientGone();
  private readonly resumeBackend = () => this.backend?.resume();
  private readonly onTimedOut = () => this.timedOut();

  constructor(private readonly settings: ForwardSettings) {}

  start(exchange: Exchange, plan: ForwardPlan): void {
    // A Forward moves between connections: its cached lines name one client address.
    if (this.linesAddress !== exchange.clientAddress) {
      this.linesByVariant.length = 0;
      this.linesAddress = exchange.clientAddress;
    }
    this.exchange = exchange;
    this.plan = plan;
    this.attempt = 0;
    this.backend = null;
    this.pending = null;
    // A head left half-read by a backend that died must not carry its scan state over.
    this.response.reset();
    this.body.start(BodyKind.None);
    this.bodySent = false;
    this.responseStarted = false;
    this.clientKeepAlive = true;
    exchange.onClose = this.onClientGone;
    this.connect(false);
  }

  // --- getting a connection -------------------------------------------------

  private connect(freshOnly: boolean): void {
    this.attempt++;
    const { backends } = this.plan;
    const target =
      backends[backends.length === 1 ? 0 : Math.floor(Math.random() * backends.length)]!;
    const pooled = freshOnly ? null : this.settings.pool.take(target.key);
    if (pooled !== null) return this.send(pooled);
    this.state = CONNECTING;
    this.target = target;
    this.exchange.setDeadline(this.settings.connectTimeout, this.onTimedOut);
    const generation = ++this.generation;
    this.settings.pool.connect(target.host, target.port, target.key).then((result) => {
      if (generation !== this.generation || this.state !== CONNECTING) {
        // Too late for this request: a fresh connection is still worth keeping.
        if (!("error" in result)) this.settings.pool.give(result);
        return;
      }
      this.exchange.clearDeadline();
      if ("error" in result)
        this.attemptFailed(target, result.code === "ECONNREFUSED" ? "refused" : result.error);
      else this.send(result);
    });
  }

  private attemptFailed(target: BackendAddress, why: string): void {
    log.debug(`backend ${target.key} ${why} (attempt ${this.attempt} of ${this.plan.attempts})`);
    this.generation++;
    if (this.attempt < this.plan.attempts) {
      const generation = this.generation;
      this.state = CONNECTING;
      this.timer = setTimeout(() => {
        this.timer = null;
        if (generation === this.generation && this.state === CONNECTING) this.connect(false);
      }, this.plan.delay * 1000);
      return;
    }
    this.fail(why === "timed out" ? 504 : 502);
  }

  private send(connection: BackendConnection): void {
    const exchange = this.exchange;
    this.backend = connection;
    connection.user = this;
    connection.uses++;
    this.state = AWAITING_HEAD;
    const head = exchange.head;
    // A small body already at hand leaves with the head, in one write.
    const body = exchange.takeWholeBody(INLINE_BODY);
    if (body !== null) this.bodySent = true;
    connection.write(
      backendRequestHead(
        exchange.headBytes,
        head,
        head.targetStart - head.method.length - 1,
        exchange.internal,
        this.forwardingLines(exchange),
        body,
      ),
      true,
    );
    exchange.setDeadline(this.settings.backendTimeout, this.onTimedOut);
    // Streaming a finished body only lets the client connection read on.
    if (body !== null || !exchange.bodyDone) exchange.streamBody(this.sink);
  }

  /** Lines added to each request; for one client address they differ only by flags, so keep them. */
  private forwardingLines(exchange: Exchange): string {
    const head = exchange.head;
    const http10 = head.minor === 0;
    if (exchange.internal) {
      const forwardedFor = forwardedForOf(exchange.headBytes, head);
      return forwardingLines(true, forwardedFor, exchange.clientAddress, head.upgrade, http10);
    }
    const variant = (head.upgrade ? 1 : 0) | (http10 ? 2 : 0);
    let lines = this.linesByVariant[variant];
    if (lines === undefined) {
      lines = forwardingLines(false, null, exchange.clientAddress, head.upgrade, http10);
      this.linesByVariant[variant] = lines;
    }
    return lines;
  }

  private readonly linesByVariant: (string | undefined)[] = [];
  private linesAddress = "";

  // --- backend events ---------------------------------------------------------

  onBackendData(chunk: Buffer): void {
    if (this.state === STREAMING) return this.forwardBody(chunk);
    if (this.state === TUNNEL) {
      if (!this.exchange.send(chunk)) this.backend!.pause();
      return;
    }
    if (this.state !== AWAITING_HEAD) return;
    this.readHead(this.pending === null ? chunk : Buffer.concat([this.pending, chunk]));
  }

  onBackendWritable(): void {
    if (this.state === TUNNEL) this.exchange.resumeTunnel();
    else if (this.state !== DONE) this.exchange.sinkResumed();
  }

  onBackendEnd(): void {
    this.backend?.close();
    this.onBackendClosed();
  }

  onBackendClosed(): void {
    const backend = this.backend;
    switch (this.state) {
      case AWAITING_HEAD: {
        this.exchange.clearDeadline();
        this.backend = null;
        // A pooled connection the backend had already closed: retry once on a
        // fresh one when nothing of the request can have been acted on twice.
        const safe =
          backend !== null &&
          backend.uses > 1 &&
          !this.responseStarted &&
          !this.bodySent &&
          IDEMPOTENT.has(this.exchange.head.method);
        if (safe) {
          this.attempt--;
          this.connect(true);
        } else this.fail(502);
        return;
      }
      case STREAMING:
        if (this.body.kind === BodyKind.UntilClose) this.done(false);
        else this.abort();
        return;
      case TUNNEL:
        this.state = DONE;
        this.exchange.end();
        return;
    }
  }

  // --- the response -----------------------------------------------------------

  private readHead(bytes: Buffer): void {
    const exchange = this.exchange;
    for (;;) {
      const response = this.response;
      const length = parseResponseHead(bytes, 0, bytes.length, response, this.settings.limits);
      if (length === NEED_MORE) {
        this.pending = bytes;
        return;
      }
      this.pending = null;
      if (length < 0) {
        log.warn(`backend ${this.backend!.key} sent a malformed response head`);
        this.backend!.destroy();
        this.backend = null;
        return this.fail(502);
      }
      const status = response.status;
      if (status === 101) {
        if (!exchange.head.upgrade) {
          this.backend!.destroy();
          this.backend = null;
          return this.fail(502);
        }
        return this.startTunnel(bytes, length, true);
      }
      // A CONNECT that the backend accepts becomes a tunnel too (RFC 9110 §9.3.6).
      if (exchange.head.method === "CONNECT" && status >= 200 && status < 300) {
        return this.startTunnel(bytes, length, false);
      }
      if (status < 200) {
        // Interim responses (100 Continue, 103 Early Hints) pass through as they are.
        this.responseStarted = true;
        exchange.send(bytes.subarray(0, length));
        if (length === bytes.length) return;
        bytes = bytes.subarray(length);
        continue;
      }
      exchange.clearDeadline();
      this.responseStarted = true;
      const kind = responseBodyKind(response, exchange.head.method);
      this.body.start(kind, response.contentLength);
      const clientKeepAlive = exchange.keepAlive && kind !== BodyKind.UntilClose;
      if (!clientKeepAlive) this.clientKeepAlive = false;
      this.state = STREAMING;
      exchange.onDrain = this.resumeBackend;
      const taken = this.body.take(bytes, length, bytes.length);
      if (taken < 0) return this.abortBadBody();
      const flowing = this.sendHead(bytes, length, taken, clientKeepAlive);
      if (this.body.done) return this.done(length + taken === bytes.length);
      if (!flowing) this.backend!.pause();
      return;
    }
  }

  private clientKeepAlive = true;

  /**
   * Sends the response head, rewritten, with the `taken` body bytes behind it.
   * Mostly the rewrite fits where the old head lay (hop-by-hop lines only
   * leave), and head and body go in one write, uncopied. Else a small body is
   * copied behind the new head, and a large one written from where it lies,
   * as copying it costs more than a second write.
   */
  private sendHead(bytes: Buffer, length: number, taken: number, keepAlive: boolean): boolean {
    const exchange = this.exchange;
    const http10 = exchange.head.minor === 0;
    const end = length + taken;
    const start = clientResponseHeadInPlace(bytes, this.response, keepAlive, http10);
    if (start >= 0) {
      return exchange.send(
        start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end),
      );
    }
    const inline = taken <= INLINE_BODY ? taken : 0;
    const out = clientResponseHead(
      bytes,
      this.response,
      keepAlive,
      http10,
      false,
      bytes,
      length,
      length + inline,
    );
    const flowing = exchange.send(out, true);
    if (inline === taken) return flowing;
    return exchange.send(bytes.subarray(length, end)) && flowing;
  }

  private forwardBody(bytes: Buffer): void {
    const taken = this.body.take(bytes, 0, bytes.length);
    if (taken < 0) return this.abortBadBody();
    const part = taken === bytes.length ? bytes : bytes.subarray(0, taken);
    const flowing = this.exchange.send(part);
    if (this.body.done) return this.done(taken === bytes.length);
    if (!flowing) this.backend!.pause();
  }

  private target: BackendAddress | null = null;

  private abortBadBody(): void {
    log.warn(`backend ${this.backend?.key} sent a malformed response body`);
    this.abort();
  }

  /** The response is whole. The backend is reused only if both directions ended cleanly. */
  private done(clean: boolean): void {
    this.state = DONE;
    this.exchange.clearDeadline();
    const backend = this.backend;
    this.backend = null;
    const exchange = this.exchange;
    exchange.onClose = null;
    exchange.onDrain = null;
    if (backend !== null) {
      const reusable =
        clean &&
        this.response.keepAlive &&
        this.body.kind !== BodyKind.UntilClose &&
        exchange.bodyDone;
      backend.resume();
      if (reusable) this.settings.pool.give(backend);
      else backend.close();
    }
    exchange.finish(this.clientKeepAlive);
  }

  private startTunnel(bytes: Buffer, length: number, switching: boolean): void {
    const exchange = this.exchange;
    const backend = this.backend!;
    exchange.clearDeadline();
    this.state = TUNNEL;
    this.responseStarted = true;
    // Bytes the backend sent after its answer already belong to the tunnel.
    exchange.send(
      clientResponseHead(bytes, this.response, true, false, switching, bytes, length, bytes.length),
      true,
    );
    exchange.onDrain = () => backend.resume();
    exchange.onEnd = () => backend.shutdown();
    exchange.onClose = () => {
      this.state = DONE;
      backend.close();
    };
    exchange.upgrade((fromClient) => backend.write(fromClient));
  }

  // --- endings ----------------------------------------------------------------

  /** Answers with the timeout page: nothing of a response has reached the client yet. */
  private fail(status: number): void {
    this.state = DONE;
    this.disarm();
    this.exchange.clearDeadline();
    const exchange = this.exchange;
    exchange.onClose = null;
    if (this.backend !== null) {
      this.backend.destroy();
      this.backend = null;
    }
    if (this.responseStarted && status !== 0) return exchange.abort();
    const page = this.settings.timeoutPage;
    exchange.respond(page.response(exchange.keepAlive, exchange.isHeadRequest, status));
  }

  private abort(): void {
    this.state = DONE;
    this.disarm();
    this.exchange.clearDeadline();
    this.backend?.destroy();
    this.backend = null;
    this.exchange.onClose = null;
    this.exchange.abort();
  }

  /** The deadline of the current step passed: connecting, or waiting for the head. */
  private timedOut(): void {
    if (this.state === CONNECTING) return this.attemptFailed(this.target!, "timed out");
    log.debug(
      `backend ${this.backend?.key} sent no response head in ${this.settings.backendTimeout}s`,
    );
    this.fail(504);
  }

  private clientGone(): void {
    if (this.state === DONE) return;
    this.state = DONE;
    this.generation++;
    this.disarm();
    this.backend?.destroy();
    this.backend = null;
  }

  private disarm(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }
}
