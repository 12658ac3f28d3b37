// Tracks where a chunked body ends (RFC 9112 §7.1) without copying or decoding
// it: the proxy forwards chunked bodies as received. Resumable at any byte.

import {
  BACKSLASH,
  COLON,
  CR,
  DQUOTE,
  FIELD_VALUE,
  HEX,
  HTAB,
  LF,
  QDTEXT,
  SEMI,
  SP,
  TOKEN,
} from "./chars.ts";

/** Bound on one chunk-size line (size and extensions) and on the trailer section. */
export const MAX_CHUNK_LINE = 16384;
export const MAX_TRAILER = 16384;

const EQUALS = 0x3d;

const SIZE_START = 0; // first hex digit of chunk-size
const SIZE = 1; // more hex digits, extensions or CR
const EXT_BWS = 2; // white space that must lead to ";"
const EXT_NAME_START = 3; // after ";"
const EXT_NAME = 4;
const EXT_NAME_BWS = 5; // white space after a name: "=" or ";" next
const EXT_VALUE_START = 6; // after "="
const EXT_VALUE = 7; // token value
const EXT_QUOTED = 8;
const EXT_QUOTED_ESC = 9;
const EXT_AFTER_QUOTED = 10;
const SIZE_LF = 11;
const DATA = 12;
const DATA_CR = 13;
const DATA_LF = 14;
const TRAILER_START = 15; // a trailer field line or the final CRLF
const TRAILER_NAME = 16;
const TRAILER_VALUE = 17;
const TRAILER_LF = 18;
const END_LF = 19;
const DONE = 20;
const FAILED = 21;

function isBws(c: number): boolean {
  return c === SP || c === HTAB;
}

export class ChunkedFramer {
  /** The final CRLF has been consumed. */
  done = false;
  /** Why the last feed returned -1, "" otherwise. */
  error = "";
  private state = SIZE_START;
  private size = 0;
  private remaining = 0;
  private lineBytes = 0;
  private trailerBytes = 0;

  reset(): void {
    this.done = false;
    this.error = "";
    this.state = SIZE_START;
    this.size = 0;
    this.remaining = 0;
    this.lineBytes = 0;
    this.trailerBytes = 0;
  }

  private fail(why: string): number {
    this.state = FAILED;
    this.error = why;
    return -1;
  }

  /**
   * Consumes buf[start, end). Returns how many bytes belong to this message;
   * once `done`, the rest belongs to the next one. -1 on a framing error.
   */
  feed(buf: Uint8Array, start: number, end: number): number {
    let state = this.state;
    if (state === DONE) return 0;
    if (state === FAILED) return -1;
    let p = start;
    while (p < end) {
      if (state === DATA) {
        const take = Math.min(this.remaining, end - p);
        p += take;
        this.remaining -= take;
        if (this.remaining === 0) state = DATA_CR;
        continue;
      }
      const c = buf[p++]!;
      if (state <= SIZE_LF) {
        if (++this.lineBytes > MAX_CHUNK_LINE) return this.fail("chunk-size line too long");
      } else if (state >= TRAILER_START && ++this.trailerBytes > MAX_TRAILER) {
        return this.fail("trailer section too large");
      }
      switch (state) {
        case SIZE_START:
        case SIZE: {
          const d = HEX[c]!;
          if (d !== 255) {
            this.size = this.size * 16 + d;
            if (this.size > Number.MAX_SAFE_INTEGER) return this.fail("chunk size too large");
            state = SIZE;
          } else if (state === SIZE_START) return this.fail("invalid chunk size");
          else if (c === CR) state = SIZE_LF;
          else if (c === SEMI) state = EXT_NAME_START;
          else if (isBws(c)) state = EXT_BWS;
          else return this.fail("invalid chunk size");
          break;
        }
        case EXT_BWS:
          if (c === SEMI) state = EXT_NAME_START;
          else if (!isBws(c)) return this.fail("invalid chunk extension");
          break;
        case EXT_NAME_START:
          if (TOKEN[c] === 1) state = EXT_NAME;
          else if (!isBws(c)) return this.fail("invalid chunk extension");
          break;
        case EXT_NAME:
        case EXT_NAME_BWS:
          if (TOKEN[c] === 1 && state === EXT_NAME) break;
          if (c === EQUALS) state = EXT_VALUE_START;
          else if (c === SEMI) state = EXT_NAME_START;
          else if (c === CR && state === EXT_NAME) state = SIZE_LF;
          else if (isBws(c)) state = EXT_NAME_BWS;
          else return this.fail("invalid chunk extension");
          break;
        case EXT_VALUE_START:
          if (TOKEN[c] === 1) state = EXT_VALUE;
          else if (c === DQUOTE) state = EXT_QUOTED;
          else if (!isBws(c)) return this.fail("invalid chunk extension");
          break;
        case EXT_VALUE:
        case EXT_AFTER_QUOTED:
          if (TOKEN[c] === 1 && state === EXT_VALUE) break;
          if (c === SEMI) state = EXT_NAME_START;
          else if (c === CR) state = SIZE_LF;
          else if (isBws(c)) state = EXT_BWS;
          else return this.fail("invalid chunk extension");
          break;
        case EXT_QUOTED:
          if (c === DQUOTE) state = EXT_AFTER_QUOTED;
          else if (c === BACKSLASH) state = EXT_QUOTED_ESC;
          else if (QDTEXT[c] !== 1) return this.fail("invalid chunk extension");
          break;
        case EXT_QUOTED_ESC:
          if (FIELD_VALUE[c] !== 1) return this.fail("invalid chunk extension");
          state = EXT_QUOTED;
          break;
        case SIZE_LF:
          if (c !== LF) return this.fail("bare CR in chunk-size line");
          this.lineBytes = 0;
          if (this.size === 0) state = TRAILER_START;
          else {
            this.remaining = this.size;
            this.size = 0;
            state = DATA;
          }
          break;
        case DATA_CR:
          if (c !== CR) return this.fail("missing CRLF after chunk data");
          state = DATA_LF;
          break;
        case DATA_LF:
          if (c !== LF) return this.fail("missing CRLF after chunk data");
          state = SIZE_START;
          break;
        case TRAILER_START:
          if (c === CR) state = END_LF;
          else if (TOKEN[c] === 1) state = TRAILER_NAME;
          else return this.fail("invalid trailer field");
          break;
        case TRAILER_NAME:
          if (c === COLON) state = TRAILER_VALUE;
          else if (TOKEN[c] !== 1) return this.fail("invalid trailer field");
          break;
        case TRAILER_VALUE:
          if (c === CR) state = TRAILER_LF;
          else if (FIELD_VALUE[c] !== 1) return this.fail("invalid trailer field");
          break;
        case TRAILER_LF:
          if (c !== LF) return this.fail("bare CR in trailer section");
          state = TRAILER_START;
          break;
        default:
          // END_LF
          if (c !== LF) return this.fail("bare CR in trailer section");
          this.state = DONE;
          this.done = true;
          return p - start;
      }
    }
    this.state = state;
    return p - start;
  }
}
