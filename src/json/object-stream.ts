/**
 * `scanObject` for text that arrives in pieces, such as a request body read
 * as it comes: each member is handed over as soon as the `,` or `}` after it
 * has arrived, so reading a large object overlaps with receiving it.
 *
 * Like `scanObject` it declines what it does not take on (an escape in a key,
 * anything but one object), and the caller then parses the whole text with
 * `JSON.parse`, which also words the error. Value texts are not checked: the
 * caller parses each distinct one.
 */
import {
  BACKSLASH,
  CLOSE_BRACE,
  COLON,
  COMMA,
  isDelimited,
  OPEN_BRACE,
  QUOTE,
  SPACE,
  skipValue,
  skipWhitespace,
} from "./object-scan.ts";

/**
 * Receives a member's key and value text; false declines the object. A value
 * text equal to the one before is handed over as that very string, so a
 * caller can tell a repeat by identity.
 */
export type OnStreamMember = (key: string, value: string) => boolean;

/** Past this much text waiting for its member's end, the stream declines (see `push`). */
export const MAX_PENDING = 1024 * 1024;
/** How much of a piece is joined to a member cut at the end of the piece before. */
const JOIN = 4096;

const BEFORE = 0;
const FIRST_MEMBER = 1;
const NEXT_MEMBER = 2;
const DONE = 3;
const DECLINED = 4;

/** `member` and friends: the text ran out before the member's end. */
const MORE = -2;
const DECLINE = -1;

export class ObjectStream {
  private state = BEFORE;
  /** The start of a member whose end has not arrived yet. */
  private pending = "";
  /** The last value text, when it ends by its own closing character (see `isDelimited`). */
  private lastValue = "";

  constructor(private readonly onMember: OnStreamMember) {}

  /**
   * Takes the next piece of text; false once the stream has declined. A member
   * longer than MAX_PENDING is declined rather than scanned again with every
   * piece, which would take time quadratic in its length.
   */
  push(piece: string): boolean {
    if (this.state === DECLINED) return false;
    let text = piece;
    let at = 0;
    const pending = this.pending;
    if (pending !== "") {
      // The member cut at the last piece's end is finished on a copy of the start of
      // this piece; the rest of the piece is read where it is rather than copied.
      text = pending + (piece.length > JOIN ? piece.slice(0, JOIN) : piece);
      at = this.scan(text, 0, pending.length - 1);
      if (at >= pending.length) {
        text = piece;
        at -= pending.length;
      } else if (at >= 0 && text.length < pending.length + piece.length) {
        text = pending + piece; // A member longer than that: all of it is joined.
      }
    }
    if (at >= 0) at = this.scan(text, at, text.length);
    if (at < 0 || text.length - at > MAX_PENDING) return this.decline();
    this.pending = at === text.length ? "" : text.slice(at);
    return true;
  }

  /** True when the text, now whole, was one object and white space around it. */
  end(): boolean {
    return this.state === DONE;
  }

  get declined(): boolean {
    return this.state === DECLINED;
  }

  private decline(): false {
    this.state = DECLINED;
    this.pending = "";
    return false;
  }

  /**
   * Reads the members of `text` from `at` that are whole and start by `until`;
   * returns where the rest starts, or DECLINE.
   */
  private scan(text: string, at: number, until: number): number {
    if (this.state === BEFORE) {
      at = skipWhitespace(text, at);
      if (at === text.length) return at;
      if (text.charCodeAt(at) !== OPEN_BRACE) return DECLINE;
      at++;
      this.state = FIRST_MEMBER;
    }
    while (this.state !== DONE) {
      if (at > until) return at;
      const end = this.member(text, at);
      if (end === MORE) return at;
      if (end === DECLINE) return DECLINE;
      at = end;
    }
    // Only white space may follow the object.
    at = skipWhitespace(text, at);
    return at === text.length ? at : DECLINE;
  }

  /** The member after `{` or `,` at `at`, handed over; the index past its `,` or `}`. */
  private member(text: string, at: number): number {
    at = skipWhitespace(text, at);
    if (at === text.length) return MORE;
    const first = text.charCodeAt(at);
    if (first === CLOSE_BRACE && this.state === FIRST_MEMBER) {
      this.state = DONE;
      return at + 1;
    }
    if (first !== QUOTE) return DECLINE;
    const keyAt = at + 1;
    const keyEnd = plainStringEnd(text, keyAt);
    if (keyEnd < 0) return keyEnd;
    at = skipWhitespace(text, keyEnd + 1);
    if (at === text.length) return MORE;
    if (text.charCodeAt(at) !== COLON) return DECLINE;
    const valueAt = skipWhitespace(text, at + 1);
    const last = this.lastValue;
    let value: string;
    let valueEnd: number;
    if (last !== "" && text.startsWith(last, valueAt)) {
      value = last;
      valueEnd = valueAt + last.length;
    } else {
      valueEnd = endOfValue(text, valueAt);
      if (valueEnd < 0) return valueEnd;
      value = text.slice(valueAt, valueEnd);
    }
    at = skipWhitespace(text, valueEnd);
    if (at === text.length) return MORE;
    const next = text.charCodeAt(at);
    if (next !== COMMA && next !== CLOSE_BRACE) return DECLINE;
    // Whole now: the member is handed over once, however the text was cut.
    if (!this.onMember(text.slice(keyAt, keyEnd), value)) return DECLINE;
    if (value !== last) this.lastValue = isDelimited(text, valueAt) ? value : "";
    this.state = next === COMMA ? NEXT_MEMBER : DONE;
    return at + 1;
  }
}

/** The closing quote of a key without escapes or control characters; MORE or DECLINE. */
function plainStringEnd(text: string, at: number): number {
  for (let i = at; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) return i;
    if (code === BACKSLASH || code < SPACE) return DECLINE;
  }
  return MORE;
}

/** Where the value at `at` ends; MORE when the text runs out first, DECLINE when there is none. */
function endOfValue(text: string, at: number): number {
  if (at === text.length) return MORE;
  const end = skipValue(text, at);
  if (isDelimited(text, at)) return end < 0 ? MORE : end;
  // A number or literal may go on in the next piece; an empty one is no value.
  if (end < 0) return DECLINE;
  return end === text.length ? MORE : end;
}
