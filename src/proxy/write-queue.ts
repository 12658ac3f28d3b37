/**
 * Writes to a socket, keeping what `write()` did not take (Bun does not keep
 * it) and writing it from the `drain` event. The owner stops reading from the
 * other side while anything is queued: that is the whole of backpressure.
 */
import type { Socket } from "bun";

export class WriteQueue {
  private readonly queue: Uint8Array[] = [];
  private ending = false;

  constructor(private readonly socket: Socket<unknown>) {}

  get empty(): boolean {
    return this.queue.length === 0;
  }

  /** True once `end` was asked for: nothing more may be written. */
  get closing(): boolean {
    return this.ending;
  }

  /**
   * True when all of `bytes` went out now; otherwise the rest waits for `flush`.
   * `transient` bytes are reused by the caller: what waits is a copy.
   */
  write(bytes: Uint8Array, transient = false): boolean {
    if (this.ending) return false;
    if (this.queue.length > 0) {
      this.queue.push(transient ? copyOf(bytes) : bytes);
      return false;
    }
    const written = this.socket.write(bytes);
    if (written === bytes.length) return true;
    const rest = written > 0 ? bytes.subarray(written) : bytes;
    this.queue.push(transient ? copyOf(rest) : rest);
    return false;
  }

  /** Writes what waits; true when nothing is left. Call it from the socket's `drain`. */
  flush(): boolean {
    while (this.queue.length > 0) {
      const bytes = this.queue[0]!;
      const written = this.socket.write(bytes);
      if (written < 0) {
        this.queue.length = 0;
        break;
      }
      if (written < bytes.length) {
        this.queue[0] = bytes.subarray(written);
        return false;
      }
      this.queue.shift();
    }
    if (this.ending) this.socket.end();
    return true;
  }

  /** Sends a FIN and closes once everything queued has been written. */
  end(): void {
    if (this.ending) return;
    this.ending = true;
    if (this.queue.length === 0) this.socket.end();
  }
}

/** A copy (a Buffer's own `slice` would be a view of the same memory). */
function copyOf(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}
