/** The narrow view of a client connection that its transaction passes answers through. */
import type { RequestObserver } from "../stats/request-end.ts";
import type { BodySink } from "./exchange.ts";

/** What a transaction needs of its client connection. */
export interface ClientSide {
  /** Told of each request as it ends (metrics, rates, the access log), or null. */
  readonly observer: RequestObserver | null;
  readonly internal: boolean;
  readonly clientAddress: string;
  readonly keepAlive: boolean;
  readonly closed: boolean;
  readonly bodyDone: boolean;
  respond(response: Uint8Array): void;
  hold(): void;
  release(): void;
  streamBody(sink: BodySink): void;
  sinkResumed(): void;
  takeWholeBody(max: number): Buffer | null;
  send(bytes: Uint8Array, transient: boolean): boolean;
  finish(reusable: boolean): void;
  abort(): void;
  end(): void;
  upgrade(fromClient: (bytes: Buffer) => boolean): void;
  resumeTunnel(): void;
}
