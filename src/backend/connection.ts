/**
 * One TCP (or TLS) connection to a backend, owned by the pool while idle and by one
 * forwarded request while busy. Socket events go to whoever owns it.
 */
import type { Socket } from "bun";
import { WriteQueue } from "../proxy/write-queue.ts";

export interface BackendUser {
  onBackendData(chunk: Buffer): void;
  onBackendWritable(): void;
  onBackendEnd(): void;
  onBackendClosed(): void;
}

export class BackendConnection {
  readonly out: WriteQueue;
  user: BackendUser | null = null;
  /** Requests this connection has carried; above 0 it came from the pool. */
  uses = 0;
  idleSince = 0;
  closed = false;
  /** Over TLS: null until the handshake ends, then "" if it succeeded, else why it failed. */
  handshake: string | null = null;
  /** Told when the handshake ends. */
  onHandshake: (() => void) | null = null;
  private paused = false;

  constructor(
    readonly socket: Socket<BackendConnection>,
    /** The backend's address key, as logs name it. */
    readonly key: string,
    /** The pool it returns to (see BackendAddress.poolKey). */
    readonly poolKey: string,
  ) {
    this.out = new WriteQueue(socket);
  }

  /** `transient`: see WriteQueue.write. */
  write(bytes: Uint8Array, transient = false): boolean {
    return this.out.write(bytes, transient);
  }

  pause(): void {
    if (this.paused || this.closed) return;
    this.paused = true;
    this.socket.pause();
  }

  resume(): void {
    if (!this.paused || this.closed) return;
    this.paused = false;
    this.socket.resume();
  }

  /** Half-closes: the backend reads end-of-stream but may still answer. */
  shutdown(): void {
    if (!this.closed) this.socket.shutdown();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.terminate();
  }
}
