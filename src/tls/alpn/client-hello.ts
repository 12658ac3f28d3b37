/**
 * The two things of a TLS ClientHello that choose a tls-alpn-01 answer: the
 * name asked for (SNI) and the ALPN protocols offered (RFC 8446 §4.1.2,
 * RFC 6066 §3, RFC 7301 §3.1). Reads the bytes as they arrive, across TLS
 * records; touches nothing else of the hello. Never throws: bytes that are no
 * ClientHello are `invalid`, and the TLS library then refuses them as usual.
 */

export interface ClientHello {
  /** The first host_name of the server_name extension, lower case; null without one. */
  readonly servername: string | null;
  /** ALPN protocol names in the client's order; empty without the extension. */
  readonly protocols: readonly string[];
}

/** `more`: the hello is not complete yet; `invalid`: these bytes are no ClientHello. */
export type HelloRead = ClientHello | "more" | "invalid";

/** A hello that does not end within this many bytes is not looked into (real ones are 0.2–2 KiB; a record holds 16 KiB). */
export const MAX_HELLO_BYTES = 16_384 + 5;

const HANDSHAKE = 22;
const CLIENT_HELLO = 1;
const SERVER_NAME = 0;
const ALPN = 16;

/** Reads the ClientHello at the start of `bytes` (everything received so far). */
export function readClientHello(bytes: Uint8Array): HelloRead {
  const message = handshakeMessage(bytes);
  if (typeof message === "string") return message;
  return parseHello(message);
}

/**
 * The first handshake message, put together from the records it spans. Each
 * byte is judged as soon as it is in, so that what cannot become a hello is
 * `invalid` at once; and a hello that would end past MAX_HELLO_BYTES is
 * `invalid` however it is cut, never `more` for ever.
 */
function handshakeMessage(bytes: Uint8Array): Uint8Array | "more" | "invalid" {
  const more = bytes.length < MAX_HELLO_BYTES ? "more" : "invalid";
  const parts: Uint8Array[] = [];
  let gathered = 0;
  let at = 0;
  let wanted = -1;
  while (wanted < 0 || gathered < wanted) {
    if (at >= bytes.length) return more;
    if (bytes[at] !== HANDSHAKE) return "invalid";
    if (at + 1 >= bytes.length) return more;
    if (bytes[at + 1] !== 3) return "invalid";
    if (at + 5 > bytes.length) return more;
    const length = (bytes[at + 3]! << 8) | bytes[at + 4]!;
    if (length === 0 || length > 16_384) return "invalid";
    const end = Math.min(at + 5 + length, bytes.length);
    const before = gathered;
    parts.push(bytes.subarray(at + 5, end));
    gathered += end - at - 5;
    if (gathered > 0 && parts[0]![0] !== CLIENT_HELLO) return "invalid";
    if (wanted < 0 && gathered >= 4) {
      const head = parts.length === 1 ? parts[0]! : concat(parts, gathered);
      wanted = 4 + ((head[1]! << 16) | (head[2]! << 8) | head[3]!);
    }
    // Where the hello ends at the earliest: within this record.
    if (wanted >= 0 && at + 5 + (wanted - before) > MAX_HELLO_BYTES) return "invalid";
    if (end < at + 5 + length) return more;
    at += 5 + length;
  }
  const whole = parts.length === 1 ? parts[0]! : concat(parts, gathered);
  return whole.subarray(4, wanted);
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A bounds-checked reader: each read past the end makes the whole hello invalid. */
class Reader {
  at = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get left(): number {
    return this.bytes.length - this.at;
  }

  u8(): number {
    if (this.left < 1) throw INVALID;
    return this.bytes[this.at++]!;
  }

  u16(): number {
    if (this.left < 2) throw INVALID;
    const value = (this.bytes[this.at]! << 8) | this.bytes[this.at + 1]!;
    this.at += 2;
    return value;
  }

  take(length: number): Uint8Array {
    if (this.left < length) throw INVALID;
    const part = this.bytes.subarray(this.at, this.at + length);
    this.at += length;
    return part;
  }
}

const INVALID = new Error("invalid ClientHello");

function parseHello(body: Uint8Array): HelloRead {
  try {
    const reader = new Reader(body);
    reader.take(2 + 32); // legacy_version, random
    const sessionId = reader.u8();
    if (sessionId > 32) return "invalid";
    reader.take(sessionId);
    const suites = reader.u16();
    if (suites < 2 || suites % 2 !== 0) return "invalid";
    reader.take(suites);
    const compression = reader.u8();
    if (compression < 1) return "invalid";
    reader.take(compression);
    let servername: string | null = null;
    let protocols: string[] = [];
    if (reader.left === 0) return { servername, protocols };
    const extensions = new Reader(reader.take(reader.u16()));
    if (reader.left !== 0) return "invalid";
    while (extensions.left > 0) {
      const type = extensions.u16();
      const data = new Reader(extensions.take(extensions.u16()));
      if (type === SERVER_NAME) servername = readServerName(data);
      else if (type === ALPN) protocols = readProtocols(data);
    }
    return { servername, protocols };
  } catch (error) {
    if (error === INVALID) return "invalid";
    throw error;
  }
}

/** Lists and names are never empty (RFC 6066 §3, RFC 7301 §3.1): one that is makes no hello. */
function nonEmptyList(data: Reader): Reader {
  const list = new Reader(data.take(data.u16()));
  if (list.left === 0) throw INVALID;
  return list;
}

function readServerName(data: Reader): string | null {
  const list = nonEmptyList(data);
  while (list.left > 0) {
    const type = list.u8();
    const name = list.take(list.u16());
    if (type !== 0) continue;
    if (name.length === 0) throw INVALID;
    return latin1(name).toLowerCase();
  }
  return null;
}

function readProtocols(data: Reader): string[] {
  const list = nonEmptyList(data);
  const protocols: string[] = [];
  while (list.left > 0) {
    const length = list.u8();
    if (length === 0) throw INVALID;
    protocols.push(latin1(list.take(length)));
  }
  return protocols;
}

function latin1(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}
