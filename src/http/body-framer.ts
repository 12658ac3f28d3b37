/**
 * Where a message body ends, by its framing: a length, chunked, or the close of
 * the connection. Bytes are counted, never copied; the proxy forwards them as
 * they came. One framer per direction of a connection, reset per message.
 */
import { ChunkedFramer } from "./chunked.ts";
import { BodyKind } from "./response-head.ts";

export class BodyFramer {
  kind: BodyKind = BodyKind.None;
  /** The whole body has been seen. */
  done = true;
  private left = 0;
  private chunked: ChunkedFramer | null = null;

  /** A new message whose body is framed by `kind` (`length` for BodyKind.Length). */
  start(kind: BodyKind, length = 0): void {
    this.kind = kind;
    if (kind === BodyKind.Length) {
      this.left = length;
      this.done = length === 0;
    } else if (kind === BodyKind.Chunked) {
      this.chunked ??= new ChunkedFramer();
      this.chunked.reset();
      this.done = false;
    } else {
      this.done = kind === BodyKind.None;
    }
  }

  /** Bytes still to come of a body framed by a length; -1 for any other framing. */
  get lengthLeft(): number {
    return this.kind === BodyKind.Length ? this.left : -1;
  }

  /**
   * How many bytes of `bytes[from, end)` belong to the body; `done` turns true
   * where it ends. -1: the chunked framing is broken.
   */
  take(bytes: Uint8Array, from: number, end: number): number {
    if (this.done) return 0;
    if (this.kind === BodyKind.Length) {
      const taken = Math.min(end - from, this.left);
      this.left -= taken;
      this.done = this.left === 0;
      return taken;
    }
    if (this.kind === BodyKind.Chunked) {
      const taken = this.chunked!.feed(bytes, from, end);
      if (taken >= 0) this.done = this.chunked!.done;
      return taken;
    }
    return end - from;
  }
}
