/**
 * The part of a socket that a client connection and its write queue use: a
 * plain Bun socket has it as it is, a TLS socket through an adapter
 * (src/tls/tls-socket.ts). Events come the other way, as calls on the
 * connection: data, writable (drain), peer end, closed.
 */

/** What a write queue needs: Bun's semantics, where `write` keeps nothing it did not take. */
export interface SocketWriter {
  /** Bytes taken now (0 when full: a drain follows), or -1 when the socket is gone. */
  write(bytes: Uint8Array): number;
  /** Sends what was taken and a FIN, then closes. */
  end(): void;
  /** Sends what was taken and a FIN; reading goes on (a half-close). */
  shutdown(): void;
}

export interface ClientSocket extends SocketWriter {
  /** Closes at once, dropping whatever has not been sent. */
  terminate(): void;
  /** Stops reading from the peer until `resume`. */
  pause(): void;
  resume(): void;
  readonly remoteAddress: string;
}
