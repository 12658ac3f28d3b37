/**
 * Writes to a socket, keeping what `write()` did not take (Bun does not keep
 * it) and writing it from the `drain` event. The owner stops reading from the
 * other side while anything is queued: that is the whole of backpressure.
 */
import type { SocketWriter } from "./client-socket.ts";
import { clock } from "./clock.ts";

const OPEN = 0;
/** Half-close once the queue is written: the peer may still send (lingering close). */
const SHUTTING = 1;
/** Close once the queue is written. */
const ENDING = 2;

export class WriteQueue {
  private readonly queue: Uint8Array[] = [];
  private ending = OPEN;
  /**
   * When the peer last took a byte while something waited here (0: nothing
   * waits). A peer that takes nothing for `send_timeout` is cut off.
   */
  private waitingSince = 0;

  constructor(private readonly socket: SocketWriter) {}

  get empty(): boolean {
    return this.queue.length === 0;
  }

  /** True once `end` or `shutdown` was asked for: nothing more may be written. */
  get closing(): boolean {
    return this.ending !== OPEN;
  }

  /** Since when bytes have waited without the peer taking any (0: none wait). */
  get stalledSince(): number {
    return this.queue.length === 0 ? 0 : this.waitingSince;
  }

  /**
   * True when all of `bytes` went out now; otherwise the rest waits for `flush`.
   * `transient` bytes are reused by the caller: what waits is a copy.
   */
  write(bytes: Uint8Array, transient = false): boolean {
    if (this.ending !== OPEN) return false;
    if (this.queue.length > 0) {
      this.queue.push(transient ? copyOf(bytes) : bytes);
      return false;
    }
    const written = this.socket.write(bytes);
    if (written === bytes.length) return true;
    const rest = written > 0 ? bytes.subarray(written) : bytes;
    this.queue.push(transient ? copyOf(rest) : rest);
    this.waitingSince = clock.now;
    return false;
  }

  /** Writes what waits; true when nothing is left. Call it from the socket's `drain`. */
  flush(): boolean {
    if (this.queue.length === 0) return true;
    while (this.queue.length > 0) {
      const bytes = this.queue[0]!;
      const written = this.socket.write(bytes);
      if (written < 0) {
        this.queue.length = 0;
        break;
      }
      if (written > 0) this.waitingSince = clock.now;
      if (written < bytes.length) {
        this.queue[0] = bytes.subarray(written);
        return false;
      }
      this.queue.shift();
    }
    this.finishEnding();
    return true;
  }

  /** Sends a FIN and closes once everything queued has been written. */
  end(): void {
    if (this.ending === ENDING) return;
    this.ending = ENDING;
    if (this.queue.length === 0) this.socket.end();
  }

  /** Sends a FIN once everything queued has been written, and keeps reading. */
  shutdown(): void {
    if (this.ending !== OPEN) return;
    this.ending = SHUTTING;
    if (this.queue.length === 0) this.socket.shutdown();
  }

  private finishEnding(): void {
    if (this.ending === ENDING) this.socket.end();
    else if (this.ending === SHUTTING) this.socket.shutdown();
  }
}

/** A copy (a Buffer's own `slice` would be a view of the same memory). */
function copyOf(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}
