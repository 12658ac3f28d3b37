/**
 * A TCP socket whose first bytes were already read (to look at the
 * ClientHello), as a stream a `TLSSocket` can run over: those bytes first,
 * then the socket's own. (Bun's TLS upgrade of a socket ignores `unshift`, so
 * the bytes cannot be put back; this costs a JS stream hop per chunk, which
 * is why listeners read hellos only while a tls-alpn-01 check is pending.)
 *
 * The client's FIN goes straight to `onPeerEnd`, as the native listener's
 * `end` event does, rather than through the TLS socket, which Bun ends its
 * own way over a JS stream: a close_notify alert there ends its writing side
 * at once, so a client that sends one right behind its request gets no
 * answer on this way in.
 *
 * It finishes once the TCP socket has handed its last byte to the kernel
 * (Bun keeps up to megabytes in buffers of its own before that): whoever
 * waits for its `finish` before destroying it cuts no answer short.
 */
import type { Socket } from "node:net";
import { Duplex } from "node:stream";

export class ReplayedSocket extends Duplex {
  constructor(
    private readonly socket: Socket,
    private first: Uint8Array | null,
    onPeerEnd: () => void,
  ) {
    super();
    socket.on("data", (chunk: Buffer) => {
      if (!this.push(chunk)) socket.pause();
    });
    socket.on("end", onPeerEnd);
    socket.on("error", (error) => this.destroy(error));
    socket.on("close", () => this.destroy());
    socket.pause();
  }

  override _read(): void {
    const first = this.first;
    if (first !== null) {
      this.first = null;
      if (!this.push(first)) return;
    }
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: string, done: (error?: Error | null) => void): void {
    this.socket.write(chunk, done);
  }

  override _final(done: () => void): void {
    this.socket.end(done);
  }

  override _destroy(error: Error | null, done: (error: Error | null) => void): void {
    this.socket.destroy();
    done(error);
  }
}
