/**
 * While the state file passes from one process to the next, neither may write
 * it. The API refuses a change then with a 503 that says why and when to try
 * again, rather than accept it and lose it, or hold it for a handover that may
 * take a while. The window is short: from the old process's last save to the
 * new one being ready, a few hundred milliseconds with a small state.
 */
import type { MiddlewareHandler } from "hono";

/** A change refused because the state is being handed over; nothing changed. */
export class WritesPaused extends Error {
  override name = "WritesPaused";
}

export class WriteGate {
  private reason: string | null = null;

  /** Refuses changes from now on, saying `reason`. */
  close(reason: string): void {
    this.reason = reason;
  }

  open(): void {
    this.reason = null;
  }

  get isOpen(): boolean {
    return this.reason === null;
  }

  /** Throws WritesPaused when closed. */
  check(): void {
    if (this.reason !== null) throw new WritesPaused(this.reason);
  }
}

/** Every method but GET and HEAD changes something. */
export function refuseWritesWhileClosed(gate: WriteGate): MiddlewareHandler {
  return async (c, next) => {
    if (gate.isOpen || c.req.method === "GET" || c.req.method === "HEAD") return next();
    try {
      gate.check();
    } catch (error) {
      return writesPausedResponse(error as WritesPaused);
    }
    return next();
  };
}

/** 503, with the reason and a Retry-After of one second. */
export function writesPausedResponse(error: WritesPaused): Response {
  return Response.json(
    { error: `${error.message}; nothing changed, send it again in a moment` },
    { status: 503, headers: { "Retry-After": "1" } },
  );
}
