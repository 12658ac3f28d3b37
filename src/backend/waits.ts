/**
 * Requests waiting for a backend: queued behind `max_conns`, or held while no
 * backend of their rule is usable (`when_all_down: spin`). They are woken when
 * a backend's state changes or a request ends on a backend with a limit, and
 * each looks again for itself; their deadlines are their own.
 */
import type { BackendStates } from "./state.ts";

export interface Waiter {
  /** Something changed: go on if a backend is eligible now, else keep waiting. */
  wake(): void;
}

export class BackendWaits {
  private readonly waiting = new Set<Waiter>();

  constructor(states: BackendStates) {
    states.onChange(() => this.wakeAll());
  }

  get size(): number {
    return this.waiting.size;
  }

  add(waiter: Waiter): void {
    this.waiting.add(waiter);
  }

  delete(waiter: Waiter): void {
    this.waiting.delete(waiter);
  }

  /** A request ended on a backend with `max_conns`: a queued one may take its place. */
  slotFreed(): void {
    if (this.waiting.size > 0) this.wakeAll();
  }

  private wakeAll(): void {
    for (const waiter of [...this.waiting]) if (this.waiting.has(waiter)) waiter.wake();
  }
}
