/**
 * The heads Mantrid forwards, rewritten on bytes: the request line or status
 * line and every kept header line are copied as they came; hop-by-hop headers
 * (RFC 9110 §7.6.1) and the forwarding headers Mantrid owns are left out, and
 * Mantrid's own lines are added at the end.
 */
import {
  H_CONNECTION,
  H_KEEP_ALIVE,
  H_PROXY_CONNECTION,
  H_TE,
  H_TRAILER,
  H_TRANSFER_ENCODING,
  H_UPGRADE,
  H_X_FORWARDED_FOR,
  H_X_FORWARDED_PROTO,
  H_X_FORWARDED_PROTOCOL,
} from "../http/request-head.ts";

/** The parts of a parsed head (request or response) that a rewrite reads. */
export interface ParsedFields {
  headLength: number;
  fieldCount: number;
  fields: Int32Array;
  lineEnds: Int32Array;
  kinds: Uint8Array;
  connectionTokens: string[] | null;
}

const bit = (kind: number) => 1 << kind;
const HOP_BY_HOP =
  bit(H_CONNECTION) | bit(H_KEEP_ALIVE) | bit(H_PROXY_CONNECTION) | bit(H_TE) | bit(H_TRAILER);
const FORWARDING = bit(H_X_FORWARDED_FOR) | bit(H_X_FORWARDED_PROTO) | bit(H_X_FORWARDED_PROTOCOL);

/**
 * Rewritten heads are built in this one buffer rather than a new one each: a
 * head is written to its socket at once, and the rare rest the socket cannot
 * take is copied before it waits (WriteQueue.write with `transient`).
 */
const scratch = Buffer.allocUnsafe(128 * 1024);

/**
 * Copies `bytes[firstLineStart, headLength)` without the fields whose kind is in
 * `dropKinds` or whose name the Connection header lists, then `extra` and the
 * blank line. `extra` is lines ending in CRLF. `tail[tailStart, tailEnd)` (body
 * bytes that came with the head) is appended so that both leave in one write.
 * The result is transient: valid until the next rewrite, so write it at once.
 */
export function rewriteHead(
  bytes: Buffer,
  head: ParsedFields,
  firstLineStart: number,
  dropKinds: number,
  extra: string,
  tail: Buffer | null = null,
  tailStart = 0,
  tailEnd = 0,
): Buffer {
  const { fieldCount, fields, lineEnds, connectionTokens } = head;
  const firstLineEnd = fieldCount > 0 ? fields[0]! : head.headLength - 2;
  // Pass one: sizes. Pass two: copies. No intermediate strings.
  let size = firstLineEnd - firstLineStart + extra.length + 2 + (tailEnd - tailStart);
  for (let i = 0; i < fieldCount; i++) {
    if (!dropped(bytes, head, i, dropKinds, connectionTokens))
      size += lineEnds[i]! - fields[i * 4]!;
  }
  const out = size <= scratch.length ? scratch.subarray(0, size) : Buffer.allocUnsafe(size);
  let at = bytes.copy(out, 0, firstLineStart, firstLineEnd);
  for (let i = 0; i < fieldCount; i++) {
    if (!dropped(bytes, head, i, dropKinds, connectionTokens)) {
      at += bytes.copy(out, at, fields[i * 4]!, lineEnds[i]!);
    }
  }
  if (extra.length > 0) at += out.write(extra, at, "latin1");
  out[at] = 13;
  out[at + 1] = 10;
  if (tail !== null && tailEnd > tailStart) tail.copy(out, at + 2, tailStart, tailEnd);
  return out;
}

/**
 * Rewrites a head where it lies, as `rewriteHead` would, so that it still ends
 * where it ended and the body behind it can leave in the same write, uncopied.
 * Kept lines move towards the end, over dropped ones; `extra` takes the place
 * of dropped lines after the last kept one. Returns where the new head starts,
 * or -1, leaving the bytes untouched, when `extra` does not fit there.
 */
export function rewriteHeadInPlace(
  bytes: Buffer,
  head: ParsedFields,
  dropKinds: number,
  extra: string,
): number {
  const { fieldCount, fields, lineEnds, connectionTokens } = head;
  const blankLine = head.headLength - 2;
  const statusLineEnd = fieldCount > 0 ? fields[0]! : blankLine;
  let last = fieldCount - 1;
  while (last >= 0 && dropped(bytes, head, last, dropKinds, connectionTokens)) last--;
  const keptEnd = last >= 0 ? lineEnds[last]! : statusLineEnd;
  if (blankLine - keptEnd < extra.length) return -1;
  // Backwards: every line moves to where it was or later, so a line not yet
  // moved is never written over (Buffer.copy within one buffer is a memmove).
  let to = blankLine - extra.length;
  if (extra.length > 0) bytes.write(extra, to, "latin1");
  for (let i = last; i >= 0; i--) {
    if (dropped(bytes, head, i, dropKinds, connectionTokens)) continue;
    const start = fields[i * 4]!;
    to -= lineEnds[i]! - start;
    if (to !== start) bytes.copy(bytes, to, start, lineEnds[i]!);
  }
  to -= statusLineEnd;
  if (to !== 0) bytes.copy(bytes, to, 0, statusLineEnd);
  return to;
}

function dropped(
  bytes: Buffer,
  head: ParsedFields,
  i: number,
  dropKinds: number,
  tokens: string[] | null,
): boolean {
  const kind = head.kinds[i]!;
  if ((dropKinds & (1 << kind)) !== 0) return true;
  if (tokens === null || kind !== 0) return false;
  const start = head.fields[i * 4]!;
  const name = bytes.toString("latin1", start, head.fields[i * 4 + 1]!).toLowerCase();
  return tokens.includes(name);
}

/**
 * The lines Mantrid adds to a request for its backend. On `bind_internal` the
 * client's forwarding headers are trusted and extended; on `bind` they were
 * dropped and these replace them (`https` on a `bind_tls` listener). An
 * upgrade keeps its Upgrade header and says so in Connection; an HTTP/1.0
 * request asks the backend to keep the connection.
 */
export function forwardingLines(
  internal: boolean,
  forwardedFor: string | null,
  clientAddress: string,
  upgrade: boolean,
  http10: boolean,
  https = false,
): string {
  let extra =
    internal && forwardedFor !== null
      ? `X-Forwarded-For: ${forwardedFor}, ${clientAddress}\r\n`
      : `X-Forwarded-For: ${clientAddress}\r\n`;
  if (!internal) extra += https ? "X-Forwarded-Proto: https\r\n" : "X-Forwarded-Proto: http\r\n";
  if (upgrade) extra += "Connection: upgrade\r\n";
  else if (http10) extra += "Connection: keep-alive\r\n";
  return extra;
}

/**
 * The request head as the backend gets it, with `body` (a whole small body)
 * behind it; `extra` comes from `forwardingLines`. Transient, as `rewriteHead`'s.
 */
export function backendRequestHead(
  bytes: Buffer,
  head: ParsedFields & { upgrade: boolean; chunked: boolean },
  requestLineStart: number,
  internal: boolean,
  extra: string,
  body: Buffer | null = null,
): Buffer {
  let drop = HOP_BY_HOP | (head.upgrade ? 0 : bit(H_UPGRADE)) | bit(H_X_FORWARDED_FOR);
  if (!internal) drop |= FORWARDING;
  // Mantrid strips white space around a value (RFC 9110 §5.5); a backend that
  // read `chunked<TAB>` as another coding would frame the body differently, so
  // such a Transfer-Encoding leaves in the form Mantrid understood.
  if (head.chunked && untidyTransferEncoding(bytes, head)) {
    drop |= bit(H_TRANSFER_ENCODING);
    extra = `Transfer-Encoding: ${transferCodings(bytes, head)}\r\n${extra}`;
  }
  return rewriteHead(bytes, head, requestLineStart, drop, extra, body, 0, body?.length ?? 0);
}

const SP = 0x20;

/** Some Transfer-Encoding line is not `name: value` with one space and nothing after the value. */
function untidyTransferEncoding(bytes: Buffer, head: ParsedFields): boolean {
  const { fields, lineEnds, kinds } = head;
  for (let i = 0; i < head.fieldCount; i++) {
    if (kinds[i] !== H_TRANSFER_ENCODING) continue;
    const nameEnd = fields[i * 4 + 1]!;
    const tidy =
      fields[i * 4 + 2] === nameEnd + 2 &&
      bytes[nameEnd + 1] === SP &&
      fields[i * 4 + 3] === lineEnds[i]! - 2;
    if (!tidy) return true;
  }
  return false;
}

/** Every Transfer-Encoding value, trimmed, as one list. */
function transferCodings(bytes: Buffer, head: ParsedFields): string {
  const values: string[] = [];
  for (let i = 0; i < head.fieldCount; i++) {
    if (head.kinds[i] !== H_TRANSFER_ENCODING) continue;
    values.push(bytes.toString("latin1", head.fields[i * 4 + 2]!, head.fields[i * 4 + 3]!));
  }
  return values.join(", ");
}

const CLOSE = "Connection: close\r\n";
const KEEP_ALIVE = "Connection: keep-alive\r\n";
const UPGRADE = "Connection: upgrade\r\n";

const responseDrop = (switching: boolean) => HOP_BY_HOP | (switching ? 0 : bit(H_UPGRADE));
const responseExtra = (keepAlive: boolean, clientHttp10: boolean, switching: boolean) =>
  switching ? UPGRADE : !keepAlive ? CLOSE : clientHttp10 ? KEEP_ALIVE : "";

/** A parsed response head: its fields and its HTTP version (`minor` 0 for HTTP/1.0). */
export interface ParsedResponse extends ParsedFields {
  minor: number;
}

/**
 * Mantrid answers its clients in HTTP/1.1 whatever the backend spoke, with its
 * own Connection line: an HTTP/1.0 status line passed on as it came would make
 * an HTTP/1.1 client close after every response, which a connection Mantrid
 * keeps does not need. `at` is where the head's first line starts in `out`;
 * the status line may follow empty lines, as the parser allows.
 */
function speakHttp11(out: Buffer, at: number, head: ParsedResponse): void {
  if (head.minor !== 0) return;
  while (out[at] === 13) at += 2;
  out[at + 7] = 0x31; // "HTTP/1.0" -> "HTTP/1.1": the same length, so nothing moves
}

/** The response head as the client gets it (transient, as `rewriteHead`'s). */
export function clientResponseHead(
  bytes: Buffer,
  head: ParsedResponse,
  keepAlive: boolean,
  clientHttp10: boolean,
  switching: boolean,
  tail: Buffer | null,
  tailStart: number,
  tailEnd: number,
): Buffer {
  const extra = responseExtra(keepAlive, clientHttp10, switching);
  const out = rewriteHead(bytes, head, 0, responseDrop(switching), extra, tail, tailStart, tailEnd);
  speakHttp11(out, 0, head);
  return out;
}

/**
 * A final response's head rewritten for the client where it lies in `bytes`
 * (see `rewriteHeadInPlace`): where it now starts, or -1 when it does not fit.
 */
export function clientResponseHeadInPlace(
  bytes: Buffer,
  head: ParsedResponse,
  keepAlive: boolean,
  clientHttp10: boolean,
): number {
  const extra = responseExtra(keepAlive, clientHttp10, false);
  const start = rewriteHeadInPlace(bytes, head, responseDrop(false), extra);
  if (start >= 0) speakHttp11(bytes, start, head);
  return start;
}

/** All X-Forwarded-For values of a request joined, or null when it has none. */
export function forwardedForOf(bytes: Buffer, head: ParsedFields): string | null {
  let joined: string | null = null;
  for (let i = 0; i < head.fieldCount; i++) {
    if (head.kinds[i] !== H_X_FORWARDED_FOR) continue;
    const value = bytes.toString("latin1", head.fields[i * 4 + 2]!, head.fields[i * 4 + 3]!);
    joined = joined === null ? value : `${joined}, ${value}`;
  }
  return joined;
}
