/**
 * A `node:tls` socket as the narrow ClientSocket a ClientConnection talks to,
 * so requests on TLS listeners run the same code as plain ones.
 *
 * Until its handshake completes it stands in the listener's connections
 * itself (counted, and closed by the sweep after `head_timeout`: a client that
 * never finishes its hello holds nothing for long); then it hands over to a
 * ClientConnection and only carries bytes and events.
 *
 * Writes: a node stream takes every chunk and says "full" past its buffer
 * size, where a Bun socket takes what it can and keeps nothing. Here a write
 * is taken whole until the stream says full, then nothing is taken until its
 * `drain`: the write queue keeps the rest and waits, so a client that does not
 * read holds at most one stream buffer, and `send_timeout` cuts it off.
 */
import type { Writable } from "node:stream";
import type { TLSSocket } from "node:tls";
import { log } from "../log.ts";
import { ClientConnection } from "../proxy/client-connection.ts";
import type { ClientSocket } from "../proxy/client-socket.ts";
import { clock } from "../proxy/clock.ts";
import type { ListenerContext, OpenConnection } from "../proxy/listener-context.ts";

/** The stream a TLS socket runs over, and the client's address it cannot tell. */
export interface Carrier {
  readonly stream: Writable;
  readonly remoteAddress: string;
}

export class TlsClientSocket implements ClientSocket, OpenConnection {
  private full = false;
  private ending = false;
  private connection: ClientConnection | null = null;
  private readonly acceptedAt = clock.now;

  constructor(
    private readonly socket: TLSSocket,
    private readonly context: ListenerContext,
    /** What the TLS runs over when it is not a TCP socket of its own (a replayed hello). */
    private readonly carrier: Carrier | null = null,
  ) {
    socket.on("error", (error) => log.debug(`tls client ${this.remoteAddress}: ${error.message}`));
    socket.once("close", () => {
      if (this.connection === null) context.connections.delete(this);
      else this.connection.onClosed();
    });
    context.connections.add(this);
  }

  /** The handshake is done: from now on a ClientConnection serves it. */
  secured(): void {
    if (this.socket.destroyed) return;
    const { socket, context } = this;
    context.connections.delete(this);
    const connection = new ClientConnection(this, context);
    this.connection = connection;
    context.connections.add(connection);
    socket.on("data", (chunk: Buffer) => connection.onData(chunk));
    socket.on("end", () => connection.onPeerEnd());
    socket.on("drain", () => {
      this.full = false;
      connection.onWritable();
    });
  }

  /** The client sent its FIN, where the TLS socket does not say so itself (a replayed hello). */
  peerEnded(): void {
    if (this.connection === null) this.socket.destroy();
    else this.connection.onPeerEnd();
  }

  // --- OpenConnection, while the handshake is under way ------------------

  /** Nothing of a request yet: a shutdown closes it at once. */
  get idle(): boolean {
    return true;
  }

  expire(now: number): void {
    if (now - this.acceptedAt > this.context.timeouts.head) {
      log.debug(`tls client ${this.remoteAddress}: no handshake in time`);
      this.socket.destroy();
    }
  }

  close(): void {
    this.socket.destroy();
  }

  abort(): void {
    this.socket.destroy();
  }

  // --- ClientSocket ------------------------------------------------------

  get remoteAddress(): string {
    return this.carrier?.remoteAddress ?? this.socket.remoteAddress ?? "";
  }

  write(bytes: Uint8Array): number {
    const socket = this.socket;
    if (socket.destroyed || socket.writableEnded) return -1;
    if (this.full) return 0;
    // While a write is under way the stream keeps later chunks by reference,
    // and a caller may reuse its bytes once this returns: those are copied.
    const chunk = socket.writableLength > 0 ? Buffer.from(bytes) : bytes;
    if (!socket.write(chunk)) this.full = true;
    return bytes.length;
  }

  end(): void {
    const socket = this.socket;
    if (socket.destroyed || this.ending) return;
    this.ending = true;
    // Bun's end closes the socket once written; a node stream would stay half open.
    // Over a carrier, its end says that: the TLS socket finishes before the carrier has its bytes.
    const last = this.carrier?.stream ?? socket;
    if (last.writableFinished) return void socket.destroy();
    last.once("finish", () => socket.destroy());
    if (socket.writableLength > 0 || this.carrier !== null) {
      // Bytes still wait for a client that may never take them: `send_timeout` bounds that.
      const timer = setTimeout(() => socket.destroy(), this.context.timeouts.send);
      timer.unref();
      socket.once("close", () => clearTimeout(timer));
    }
    if (!socket.writableEnded) socket.end();
  }

  shutdown(): void {
    if (!this.socket.destroyed) this.socket.end();
  }

  terminate(): void {
    this.socket.destroy();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }
}
