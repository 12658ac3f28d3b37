/**
 * A TLS listener's way in while a tls-alpn-01 check is pending: plain TCP,
 * each ClientHello read before any TLS, so that the CA's handshake (the
 * name, ALPN `acme-tls/1`) gets the challenge certificate and every other
 * client the certificate it always gets, over the same connection code.
 * Slower than the native TLS listener (the hello is replayed through a JS
 * stream), so it is only open while a check is pending.
 */
import { createServer, type Socket } from "node:net";
import { TLSSocket } from "node:tls";
import { log } from "../../log.ts";
import { clock } from "../../proxy/clock.ts";
import type { ListenerContext, OpenConnection } from "../../proxy/listener-context.ts";
import type { SniContexts } from "../sni.ts";
import { TlsClientSocket } from "../tls-socket.ts";
import { type HelloRead, MAX_HELLO_BYTES, readClientHello } from "./client-hello.ts";
import { ACME_TLS_PROTOCOL, type AlpnContexts } from "./contexts.ts";
import { ReplayedSocket } from "./replay.ts";

/** One bound way into a TLS listener. */
export interface Door {
  readonly port: number;
  readonly hostname: string;
  close(): void;
}

export interface HelloDoorSetup {
  readonly host: string;
  readonly port: number;
  readonly context: ListenerContext;
  readonly sni: SniContexts;
  readonly alpn: AlpnContexts;
  /** The ALPN protocols of ordinary clients. */
  readonly protocols: string[];
  /** Builds the error of a failed bind. */
  readonly bindError: () => Error;
}

/** Binds at once beside the listener's other door (SO_REUSEPORT); throws when it cannot. */
export function openHelloDoor(setup: HelloDoorSetup): Door {
  const { context } = setup;
  const server = createServer({ allowHalfOpen: true }, (raw: Socket) => {
    if (context.connections.size >= context.maxConnections) {
      raw.destroy();
      return;
    }
    new HelloWait(raw, context, (bytes, read) => hand(setup, raw, bytes, read));
  });
  server.on("error", (error) =>
    log.warn(`tls listener ${setup.host}:${setup.port}: ${error.message}`),
  );
  server.listen({ host: setup.host, port: setup.port, reusePort: true });
  const bound = server.address();
  if (bound === null || typeof bound !== "object") {
    server.close();
    throw setup.bindError();
  }
  return { hostname: bound.address, port: bound.port, close: () => server.close() };
}

/** The hello read: on to TLS with the certificate it asked for. */
function hand(setup: HelloDoorSetup, raw: Socket, bytes: Uint8Array, read: HelloRead): void {
  const hello = typeof read === "object" ? read : null;
  const challenge = hello === null ? null : setup.alpn.contextFor(hello);
  let client: TlsClientSocket | null = null;
  const replayed = new ReplayedSocket(raw, bytes, () => client?.peerEnded());
  const socket = new TLSSocket(replayed, {
    isServer: true,
    secureContext: challenge ?? setup.sni.select(hello?.servername ?? ""),
    ALPNProtocols: challenge === null ? setup.protocols : [ACME_TLS_PROTOCOL],
  });
  // A TLS error ends the TLS socket but not the stream under it: the connection goes with it.
  socket.once("close", () => replayed.destroy());
  const accepted = new TlsClientSocket(socket, setup.context, {
    stream: replayed,
    remoteAddress: raw.remoteAddress ?? "",
  });
  client = accepted;
  socket.on("secure", () => {
    if (challenge === null) return accepted.secured();
    // The CA only looks at the certificate, then closes (RFC 8737 §3); head_timeout bounds it.
    log.info(
      `acme: answered the tls-alpn-01 check for ${hello?.servername} from ${raw.remoteAddress}`,
    );
    socket.end();
  });
}

/** Where the hello ends if it comes in one record: after its record and handshake headers and body. */
function helloEnd(bytes: Uint8Array): number {
  if (bytes.length < 9) return 9;
  return 9 + ((bytes[6]! << 16) | (bytes[7]! << 8) | bytes[8]!);
}

/**
 * A connection whose hello is still coming: counted, and closed by the sweep
 * after `head_timeout` like a request head that does not come.
 */
class HelloWait implements OpenConnection {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  /** Bytes to have before reading again: a record and a handshake header at first. */
  private awaiting = 9;
  private readonly acceptedAt = clock.now;

  constructor(
    private readonly raw: Socket,
    private readonly context: ListenerContext,
    private readonly done: (bytes: Uint8Array, read: HelloRead) => void,
  ) {
    context.connections.add(this);
    raw.on("data", this.onData);
    raw.on("end", this.onGone);
    raw.on("close", this.onGone);
    raw.on("error", this.onError);
  }

  get idle(): boolean {
    return true;
  }

  expire(now: number): void {
    if (now - this.acceptedAt > this.context.timeouts.head) this.raw.destroy();
  }

  close(): void {
    this.raw.destroy();
  }

  abort(): void {
    this.raw.destroy();
  }

  private readonly onData = (chunk: Buffer): void => {
    this.chunks.push(chunk);
    this.size += chunk.length;
    // Read again only once the bytes it asked for may be there: a hello sent a
    // byte at a time is put together twice, not once per byte.
    if (this.size < this.awaiting && this.size <= MAX_HELLO_BYTES) return;
    const bytes = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks, this.size);
    this.chunks.length = 0;
    this.chunks.push(bytes);
    // Never `more` past MAX_HELLO_BYTES: a hello too long is `invalid`, and the TLS library refuses it.
    const read = readClientHello(bytes);
    if (read === "more") {
      this.awaiting = Math.max(this.size + 1, helloEnd(bytes));
      return;
    }
    this.leave();
    this.raw.pause();
    this.done(bytes, read);
  };

  private readonly onGone = (): void => {
    this.leave();
    this.raw.destroy();
  };

  private readonly onError = (error: Error): void => {
    log.debug(`tls client ${this.raw.remoteAddress}: ${error.message}`);
  };

  private leave(): void {
    this.context.connections.delete(this);
    this.raw.off("data", this.onData);
    this.raw.off("end", this.onGone);
    this.raw.off("close", this.onGone);
    this.raw.off("error", this.onError);
  }
}
