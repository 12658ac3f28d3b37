/**
 * One request forwarded to a backend: pick a backend, take a pooled connection
 * or open one, send the rewritten head, stream the body both ways by its
 * framing, and hand the connection back to the pool when the exchange ended
 * cleanly. Failures before the response head become the `timeout` page (502
 * refused or broken, 504 timed out); after it, the client connection is closed
 * so a cut response never looks whole.
 */
import type { Exchange } from "../actions/exchange.ts";
import { ChunkedFramer } from "../http/chunked.ts";
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
import { backendRequestHead, clientResponseHead, forwardedForOf } from "./forward-head.ts";

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

export class Forward implements BackendUser {
  private state = CONNECTING;
  private attempt = 0;
  /** Tells a late connect result from the current one. */
  private generation = 0;
  private backend: BackendConnection | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly response = new ResponseHead();
  private pending: Buffer | null = null;
  private bodyKind: BodyKind = BodyKind.None;
  private bodyLeft = 0;
  private framer: ChunkedFramer | null = null;
  private bodySent = false;
  private responseStarted = false;
  private readonly sink = (bytes: Buffer) => {
    this.bodySent = true;
    return this.backend === null ? true : this.backend.write(bytes);
  };

  constructor(
    private readonly exchange: Exchange,
    private readonly plan: ForwardPlan,
    private readonly settings: ForwardSettings,
  ) {}

  start(): void {
    this.exchange.onClose = () => this.clientGone();
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
    this.arm(this.settings.connectTimeout, () => this.attemptFailed(target, "timed out"));
    const generation = ++this.generation;
    this.settings.pool.connect(target.host, target.port, target.key).then((result) => {
      if (generation !== this.generation || this.state !== CONNECTING) {
        // Too late for this request: a fresh connection is still worth keeping.
        if (!("error" in result)) this.settings.pool.give(result);
        return;
      }
      this.disarm();
      if ("error" in result)
        this.attemptFailed(target, result.code === "ECONNREFUSED" ? "refused" : result.error);
      else this.send(result);
    });
  }

  private attemptFailed(target: BackendAddress, why: string): void {
    log.debug(`backend ${target.key} ${why} (attempt ${this.attempt} of ${this.plan.attempts})`);
    this.generation++;
    if (this.attempt < this.plan.attempts) {
      this.arm(this.plan.delay, () => this.connect(false));
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
    connection.write(
      backendRequestHead(
        exchange.headBytes,
        head,
        head.targetStart - head.method.length - 1,
        exchange.internal ? forwardedForOf(exchange.headBytes, head) : null,
        {
          internal: exchange.internal,
          clientAddress: exchange.clientAddress,
          upgrade: head.upgrade,
          http10: head.minor === 0,
        },
      ),
    );
    this.arm(this.settings.backendTimeout, () => this.backendTimedOut());
    if (!exchange.bodyDone) exchange.streamBody(this.sink);
  }

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
        this.disarm();
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
        if (this.bodyKind === BodyKind.UntilClose) this.done(false);
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
        return this.startTunnel(bytes, length);
      }
      if (status < 200) {
        // Interim responses (100 Continue, 103 Early Hints) pass through as they are.
        this.responseStarted = true;
        exchange.send(bytes.subarray(0, length));
        if (length === bytes.length) return;
        bytes = bytes.subarray(length);
        continue;
      }
      this.disarm();
      this.responseStarted = true;
      this.bodyKind = responseBodyKind(response, exchange.head.method);
      const clientKeepAlive = exchange.keepAlive && this.bodyKind !== BodyKind.UntilClose;
      if (!clientKeepAlive) this.clientKeepAlive = false;
      exchange.send(
        clientResponseHead(bytes, response, clientKeepAlive, exchange.head.minor === 0, false),
      );
      this.state = STREAMING;
      exchange.onDrain = () => this.backend?.resume();
      if (this.bodyKind === BodyKind.Length) this.bodyLeft = response.contentLength;
      else if (this.bodyKind === BodyKind.Chunked) {
        this.framer ??= new ChunkedFramer();
        this.framer.reset();
      }
      if (
        this.bodyKind === BodyKind.None ||
        (this.bodyKind === BodyKind.Length && this.bodyLeft === 0)
      ) {
        return this.done(length === bytes.length);
      }
      if (length < bytes.length) this.forwardBody(bytes.subarray(length));
      return;
    }
  }

  private clientKeepAlive = true;

  private forwardBody(bytes: Buffer): void {
    let part = bytes;
    let finished = false;
    if (this.bodyKind === BodyKind.Length) {
      if (bytes.length >= this.bodyLeft) {
        part = bytes.length === this.bodyLeft ? bytes : bytes.subarray(0, this.bodyLeft);
        finished = true;
      }
      this.bodyLeft -= part.length;
    } else if (this.bodyKind === BodyKind.Chunked) {
      const taken = this.framer!.feed(bytes, 0, bytes.length);
      if (taken < 0) {
        log.warn(`backend ${this.backend!.key} sent a malformed chunked body`);
        return this.abort();
      }
      if (taken < bytes.length) part = bytes.subarray(0, taken);
      finished = this.framer!.done;
    }
    const flowing = this.exchange.send(part);
    if (finished) return this.done(part.length === bytes.length);
    if (!flowing) this.backend!.pause();
  }

  /** The response is whole. The backend is reused only if both directions ended cleanly. */
  private done(clean: boolean): void {
    this.state = DONE;
    this.disarm();
    const backend = this.backend;
    this.backend = null;
    const exchange = this.exchange;
    exchange.onClose = null;
    exchange.onDrain = null;
    if (backend !== null) {
      const reusable =
        clean &&
        this.response.keepAlive &&
        this.bodyKind !== BodyKind.UntilClose &&
        exchange.bodyDone;
      backend.resume();
      if (reusable) this.settings.pool.give(backend);
      else backend.close();
    }
    exchange.finish(this.clientKeepAlive);
  }

  private startTunnel(bytes: Buffer, length: number): void {
    const exchange = this.exchange;
    const backend = this.backend!;
    this.disarm();
    this.state = TUNNEL;
    this.responseStarted = true;
    exchange.send(clientResponseHead(bytes, this.response, true, false, true));
    if (length < bytes.length) exchange.send(bytes.subarray(length));
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
    this.backend?.destroy();
    this.backend = null;
    this.exchange.onClose = null;
    this.exchange.abort();
  }

  private backendTimedOut(): void {
    log.debug(
      `backend ${this.backend?.key} sent no response head in ${this.settings.backendTimeout}s`,
    );
    this.fail(504);
  }

  private clientGone(): void {
    if (this.state === DONE) return;
    this.state = DONE;
    this.disarm();
    this.backend?.destroy();
    this.backend = null;
  }

  private arm(seconds: number, then: () => void): void {
    this.disarm();
    this.timer = setTimeout(() => {
      this.timer = null;
      then();
    }, seconds * 1000);
  }

  private disarm(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }
}
