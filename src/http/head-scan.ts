// When a head arrives in pieces, only the new bytes are searched for the blank
// line that ends it; the full parse runs once the head is complete. This keeps
// a head trickling in a byte at a time linear rather than quadratic.

import { CR, LF } from "./chars.ts";
import { E_HEAD_TOO_LARGE, E_LINE_TOO_LONG, E_TOO_MANY_FIELDS, NEED_MORE } from "./errors.ts";
import type { MessageHead } from "./head-fields.ts";
import type { HeadLimits } from "./limits.ts";

/** Returned by scanHeadEnd when a full parse should now succeed or fail. */
export const HEAD_COMPLETE = 1;

/** Length of the line [ls, le), not counting a CR that may precede its LF. */
function lineLength(buf: Uint8Array, ls: number, le: number): number {
  return le > ls && buf[le - 1] === CR ? le - ls - 1 : le - ls;
}

/**
 * Resumes the search from head.scan* (relative to `start`). Returns
 * HEAD_COMPLETE, NEED_MORE (state saved), or a size error.
 */
export function scanHeadEnd(
  buf: Uint8Array,
  start: number,
  end: number,
  head: MessageHead,
  limits: HeadLimits,
): number {
  const lim = Math.min(end, start + limits.maxHeadSize);
  let i = start + head.scanPos;
  let ls = start + head.scanLineStart;
  let lines = head.scanLines;
  for (; i < lim; i++) {
    if (buf[i] !== LF) continue;
    if (lineLength(buf, ls, i) === 0) {
      // A blank line ends the head, unless it precedes the start line.
      if (lines > 0) {
        head.clearScan();
        return HEAD_COMPLETE;
      }
    } else {
      if (lines === 0 && lineLength(buf, ls, i) > limits.maxRequestLine) return E_LINE_TOO_LONG;
      if (++lines > limits.maxHeaders + 1) return E_TOO_MANY_FIELDS;
    }
    ls = i + 1;
  }
  if (lines === 0 && lineLength(buf, ls, i) > limits.maxRequestLine) return E_LINE_TOO_LONG;
  if (lim < end) return E_HEAD_TOO_LARGE;
  head.scanPos = i - start;
  head.scanLineStart = ls - start;
  head.scanLines = lines;
  return NEED_MORE;
}

/** Parses a whole head into `head`: its length, NEED_MORE, or an error code. */
export type FullParse<H extends MessageHead> = (
  buf: Uint8Array,
  start: number,
  end: number,
  head: H,
  limits: HeadLimits,
) => number;

/**
 * The resumable parse shared by request and response heads: while the blank
 * line is known to be missing, only new bytes are scanned; once it may be
 * there, `parseFull` runs over the whole head.
 */
export function parseResumable<H extends MessageHead>(
  buf: Uint8Array,
  start: number,
  end: number,
  head: H,
  limits: HeadLimits,
  parseFull: FullParse<H>,
): number {
  if (head.scanPos !== 0) {
    const s = scanHeadEnd(buf, start, end, head, limits);
    if (s !== HEAD_COMPLETE) {
      if (s < 0) head.clearScan();
      return s;
    }
  }
  const r = parseFull(buf, start, end, head, limits);
  if (r !== NEED_MORE) return r;
  // Remember how far the head is known to be incomplete.
  head.clearScan();
  const s = scanHeadEnd(buf, start, end, head, limits);
  return s === HEAD_COMPLETE ? NEED_MORE : s;
}
