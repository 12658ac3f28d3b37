/**
 * `spin`: hold the request, reading nothing more from its connection, until the
 * rule table changes so that its hostname resolves to something else; then run
 * that action on the request exactly as it arrived. Waking is driven by the
 * table's change event, not by polling; a held request costs one small record.
 */
import { errorResponse } from "../http/response-writer.ts";
import type { Exchange, ExchangeListener } from "../proxy/exchange.ts";
import type { Page } from "../static/pages.ts";
import type { Action } from "./action.ts";
import type { Router } from "./router.ts";

const FULL = errorResponse(503, "too many requests waiting", [["Retry-After", "1"]]);

/** A held request; told when its client gives up. */
class Held implements ExchangeListener {
  constructor(
    readonly room: SpinRoom,
    readonly exchange: Exchange,
  ) {}

  abandoned(): void {
    this.room.leave(this);
  }

  readonly expire = () => this.room.expire(this);
}

export class SpinRoom {
  private readonly waiting = new Set<Held>();

  constructor(
    private readonly router: Router,
    private readonly timeoutPage: Page,
    /** Beyond this many held requests, new ones get a fast 503 instead of a place in line. */
    private readonly maxSpinning: number,
    onChange: (listener: () => void) => void,
  ) {
    onChange(() => this.wake());
  }

  get size(): number {
    return this.waiting.size;
  }

  hold(exchange: Exchange, timeoutSeconds: number): void {
    if (this.waiting.size >= this.maxSpinning) {
      exchange.respond(FULL);
      exchange.end();
      return;
    }
    exchange.hold();
    const held = new Held(this, exchange);
    exchange.listen(held);
    exchange.setDeadline(timeoutSeconds, held.expire);
    this.waiting.add(held);
  }

  private wake(): void {
    for (const held of this.waiting) {
      const entry = this.router.resolve(held.exchange.host, held.exchange.protocol);
      // Still spinning (maybe under another rule): keep waiting, with the first deadline.
      if (entry?.action instanceof SpinAction) continue;
      this.leave(held);
      held.exchange.release();
      this.router.run(entry, held.exchange);
    }
  }

  expire(held: Held): void {
    this.leave(held);
    const { exchange } = held;
    exchange.release();
    exchange.respond(this.timeoutPage.response(exchange.keepAlive, exchange.isHeadRequest, 504));
  }

  leave(held: Held): void {
    held.exchange.clearDeadline();
    this.waiting.delete(held);
  }
}

export class SpinAction implements Action {
  readonly name = "spin";

  constructor(
    private readonly room: SpinRoom,
    private readonly timeoutSeconds: number,
  ) {}

  run(exchange: Exchange): void {
    this.room.hold(exchange, this.timeoutSeconds);
  }
}
