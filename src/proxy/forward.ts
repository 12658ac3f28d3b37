/**
 * One request forwarded to a backend: the connector gets a connection, the
 * request head goes out rewritten with its body streaming behind it, the relay
 * brings the response back, and the connection returns to the pool when both
 * directions ended cleanly. Failures before the response head become the
 * `timeout` page (502 refused or broken, 504 timed out); after it, the client
 * connection is closed so a cut response never looks whole.
 */
import type { BackendConnection, BackendUser } from "../backend/connection.ts";
import { type ConnectListener, Connector, type ConnectPlan } from "../backend/connector.ts";
import type { Member } from "../balance/policy.ts";
import { isIdempotent } from "../http/request-line.ts";
import { log } from "../log.ts";
import type { Exchange, ExchangeListener } from "./exchange.ts";
import { backendRequestHead } from "./forward-head.ts";
import type { ForwardOwner } from "./forward-settings.ts";
import * as relay from "./relay.ts";

const CONNECTING = 0;
const AWAITING_HEAD = 1;
const STREAMING = 2;
const TUNNEL = 3;
const DONE = 4;

/** Up to this many body bytes that arrive with a head are sent in the head's write. */
const INLINE_BODY = 16 * 1024;

export class Forward implements BackendUser, ConnectListener, ExchangeListener {
  private exchange!: Exchange;
  private plan!: ConnectPlan;
  /** The member the request went to, counted in its `active` until the request ends. */
  private member: Member | null = null;
  private state = DONE;
  /** When the request head left for the backend (performance.now()). */
  private sentAt = 0;
  private backend: BackendConnection | null = null;
  private bodySent = false;
  private readonly relay: relay.Relay;
  private readonly connector: Connector;
  private readonly sink = (bytes: Buffer) => {
    this.bodySent = true;
    return this.backend === null ? true : this.backend.write(bytes);
  };
  private readonly onTimedOut = () => this.timedOut();

  constructor(private readonly owner: ForwardOwner<Forward>) {
    this.relay = new relay.Relay(owner.settings.limits);
    this.connector = new Connector(owner.settings, this);
  }

  start(exchange: Exchange, plan: ConnectPlan): void {
    this.exchange = exchange;
    this.plan = plan;
    this.member = null;
    this.backend = null;
    this.bodySent = false;
    this.relay.reset();
    this.state = CONNECTING;
    exchange.listen(this);
    this.connector.start(exchange, plan);
  }

  // --- the request ------------------------------------------------------------

  connected(connection: BackendConnection, member: Member): void {
    const exchange = this.exchange;
    if (this.member === null) {
      this.member = member;
      member.state.active++;
      member.state.requests++;
    }
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
        exchange.forwardingLines(),
        body,
      ),
      true,
    );
    exchange.setDeadline(this.owner.settings.backendTimeout, this.onTimedOut);
    this.sentAt = performance.now();
    // Streaming a finished body only lets the client connection read on.
    if (body !== null || !exchange.bodyDone) exchange.streamBody(this.sink);
  }

  failed(status: number): void {
    this.fail(status);
  }

  // --- backend events ---------------------------------------------------------

  onBackendData(chunk: Buffer): void {
    const state = this.state;
    if (state === TUNNEL) {
      if (!this.exchange.send(chunk)) this.backend!.pause();
      return;
    }
    if (state !== AWAITING_HEAD && state !== STREAMING) return;
    const step = this.relay.receive(chunk, this.exchange);
    if (state === AWAITING_HEAD && !this.relay.awaitingHead) {
      const exchange = this.exchange;
      exchange.clearDeadline();
      this.state = STREAMING;
      const member = this.member!;
      const status = this.relay.status;
      exchange.noteResponse(
        status,
        member.state,
        this.connector.attempts,
        performance.now() - this.sentAt,
      );
      if (this.plan.passive?.statuses?.includes(status)) this.connector.failedOn(member);
    }
    switch (step) {
      case relay.CLIENT_FULL:
        this.backend!.pause();
        return;
      case relay.COMPLETE:
        return this.done(true);
      case relay.COMPLETE_WITH_EXTRA:
        return this.done(false);
      case relay.BAD_HEAD:
        log.warn(`backend ${this.backend!.key} sent a response head that cannot be passed on`);
        return this.fail(502);
      case relay.BAD_BODY:
        log.warn(`backend ${this.backend!.key} sent a malformed response body`);
        return this.abort();
      case relay.TUNNEL:
        return this.openTunnel();
    }
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
    switch (this.state) {
      case AWAITING_HEAD: {
        const backend = this.backend!;
        this.exchange.clearDeadline();
        this.backend = null;
        backend.user = null;
        // A pooled connection the backend had already closed: retry once on a
        // fresh one when nothing of the request can have been acted on twice.
        const safe =
          backend.uses > 1 &&
          !this.relay.started &&
          !this.bodySent &&
          isIdempotent(this.exchange.head.methodId);
        if (!safe) {
          // A reset before the response head counts against the backend.
          this.connector.failedOn(this.member!);
          return this.fail(502);
        }
        this.state = CONNECTING;
        this.connector.retryFresh();
        return;
      }
      case STREAMING:
        if (this.relay.endsAtClose) this.done(false);
        else this.abort();
        return;
      case TUNNEL:
        this.state = DONE;
        this.leaveMember();
        this.exchange.end();
        this.owner.release(this);
        return;
    }
  }

  // --- client events (ExchangeListener) ---------------------------------------

  abandoned(): void {
    if (this.state === DONE) return;
    const tunnel = this.state === TUNNEL;
    this.state = DONE;
    this.connector.cancel();
    this.dropBackend(!tunnel);
    this.leaveMember();
    this.owner.release(this);
  }

  writable(): void {
    this.backend?.resume();
  }

  clientEnded(): void {
    if (this.state === TUNNEL) this.backend?.shutdown();
  }

  // --- endings ----------------------------------------------------------------

  private openTunnel(): void {
    const backend = this.backend!;
    this.state = TUNNEL;
    this.exchange.clearDeadline();
    this.exchange.upgrade((fromClient) => backend.write(fromClient));
  }

  /** The response is whole. The backend is reused only if both directions ended cleanly. */
  private done(clean: boolean): void {
    this.state = DONE;
    const backend = this.backend!;
    this.backend = null;
    const exchange = this.exchange;
    backend.resume();
    // A drained backend gets no new request, pooled connections included.
    const enabled = this.member!.state.admin === "enabled";
    this.leaveMember();
    if (clean && enabled && this.relay.backendReusable && exchange.bodyDone) {
      this.owner.settings.pool.give(backend);
    } else {
      backend.user = null;
      backend.close();
    }
    exchange.finish(this.relay.clientKeepAlive);
    this.owner.release(this);
  }

  /** Answers with the timeout page, or cuts the client off if a response had begun. */
  private fail(status: number): void {
    this.state = DONE;
    this.connector.cancel();
    this.dropBackend(true);
    this.leaveMember();
    const exchange = this.exchange;
    exchange.clearDeadline();
    exchange.attempts = this.connector.attempts;
    if (this.relay.started) exchange.abort();
    else {
      const page = this.owner.settings.timeoutPage;
      exchange.respond(page.response(exchange.keepAlive, exchange.isHeadRequest, status));
    }
    this.owner.release(this);
  }

  private abort(): void {
    this.state = DONE;
    this.dropBackend(true);
    this.leaveMember();
    this.exchange.abort();
    this.owner.release(this);
  }

  /** No response head within `backend_timeout`. */
  private timedOut(): void {
    const { backendTimeout } = this.owner.settings;
    log.debug(`backend ${this.backend?.key} sent no response head in ${backendTimeout}s`);
    this.fail(504);
  }

  /** The request no longer counts in its member's `active`; one queued behind it may go. */
  private leaveMember(): void {
    const member = this.member;
    if (member === null) return;
    this.member = null;
    member.state.active--;
    if (member.maxConns > 0) this.owner.settings.waits.slotFreed();
  }

  /** Lets go of the backend connection: it is never pooled again. */
  private dropBackend(hard: boolean): void {
    const backend = this.backend;
    if (backend === null) return;
    this.backend = null;
    backend.user = null;
    if (hard) backend.destroy();
    else backend.close();
  }
}
