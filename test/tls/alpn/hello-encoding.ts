/**
 * ClientHellos as the tests write them: a plain description, its encoding in
 * one TLS record (with where each length prefix sits, for the fuzzer to bend),
 * the same message cut into records of any sizes, and a decoder that turns a
 * captured hello back into a description (RFC 8446 §4.1.2, RFC 6066 §3,
 * RFC 7301 §3.1).
 */

export interface NameEntry {
  /** 0 is host_name; any other type is skipped by servers that do not know it. */
  readonly type: number;
  readonly name: Uint8Array;
}

export type Extension =
  | { readonly kind: "sni"; readonly entries: readonly NameEntry[] }
  | { readonly kind: "alpn"; readonly names: readonly Uint8Array[] }
  | { readonly kind: "other"; readonly type: number; readonly data: Uint8Array };

export interface HelloSpec {
  readonly version: number;
  readonly random: Uint8Array;
  readonly sessionId: Uint8Array;
  /** Cipher suites, two bytes each. */
  readonly suites: Uint8Array;
  readonly compression: Uint8Array;
  /** null: no extensions block at all (allowed before TLS 1.3). */
  readonly extensions: readonly Extension[] | null;
}

/** Where a length prefix sits in the encoded bytes. */
export interface LengthField {
  readonly at: number;
  readonly width: 1 | 2 | 3;
}

export interface EncodedHello {
  /** The hello in one handshake record, as a client sends it. */
  readonly wire: Uint8Array;
  /** The handshake message alone (type, length, body). */
  readonly message: Uint8Array;
  /** Every length prefix of `wire`. */
  readonly fields: readonly LengthField[];
}

const SERVER_NAME = 0;
const ALPN = 16;

export function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1");
}

export function ascii(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "latin1"));
}

/** What the reader should say of this hello. */
export function expectedRead(spec: HelloSpec): {
  servername: string | null;
  protocols: string[];
} {
  const extensions = spec.extensions ?? [];
  const sni = extensions.find((extension) => extension.kind === "sni");
  const alpn = extensions.find((extension) => extension.kind === "alpn");
  const host = sni?.entries.find((entry) => entry.type === 0);
  return {
    servername: host === undefined ? null : latin1(host.name).toLowerCase(),
    protocols: alpn === undefined ? [] : alpn.names.map(latin1),
  };
}

class Writer {
  private readonly bytes: number[] = [];
  readonly fields: LengthField[] = [];

  uint(value: number, width: number): void {
    for (let shift = 8 * (width - 1); shift >= 0; shift -= 8)
      this.bytes.push((value >>> shift) & 255);
  }

  raw(data: Uint8Array): void {
    for (const byte of data) this.bytes.push(byte);
  }

  /** A length prefix of `width` bytes, then what `fill` writes. */
  vector(width: 1 | 2 | 3, fill: () => void): void {
    const at = this.bytes.length;
    this.uint(0, width);
    fill();
    const length = this.bytes.length - at - width;
    for (let i = 0; i < width; i++) this.bytes[at + i] = (length >>> (8 * (width - 1 - i))) & 255;
    this.fields.push({ at, width });
  }

  done(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

export function encodeHello(spec: HelloSpec): EncodedHello {
  const w = new Writer();
  w.uint(22, 1);
  w.uint(0x0301, 2);
  w.vector(2, () => {
    w.uint(1, 1);
    w.vector(3, () => {
      w.uint(spec.version, 2);
      w.raw(spec.random);
      w.vector(1, () => w.raw(spec.sessionId));
      w.vector(2, () => w.raw(spec.suites));
      w.vector(1, () => w.raw(spec.compression));
      if (spec.extensions !== null) {
        const extensions = spec.extensions;
        w.vector(2, () => {
          for (const extension of extensions) writeExtension(w, extension);
        });
      }
    });
  });
  const wire = w.done();
  return { wire, message: wire.subarray(5), fields: w.fields };
}

function writeExtension(w: Writer, extension: Extension): void {
  if (extension.kind === "other") {
    w.uint(extension.type, 2);
    w.vector(2, () => w.raw(extension.data));
  } else if (extension.kind === "sni") {
    w.uint(SERVER_NAME, 2);
    w.vector(2, () =>
      w.vector(2, () => {
        for (const entry of extension.entries) {
          w.uint(entry.type, 1);
          w.vector(2, () => w.raw(entry.name));
        }
      }),
    );
  } else {
    w.uint(ALPN, 2);
    w.vector(2, () =>
      w.vector(2, () => {
        for (const name of extension.names) w.vector(1, () => w.raw(name));
      }),
    );
  }
}

/** The handshake message in records of the given sizes (the last size repeats). */
export function frame(message: Uint8Array, sizes: readonly number[]): Uint8Array {
  const records: number[] = [];
  let at = 0;
  for (let i = 0; at < message.length; i++) {
    const size = Math.min(sizes[Math.min(i, sizes.length - 1)]!, message.length - at);
    records.push(
      22,
      3,
      i === 0 ? 1 : 3,
      size >>> 8,
      size & 255,
      ...message.subarray(at, at + size),
    );
    at += size;
  }
  return Uint8Array.from(records);
}

/** The payloads of the TLS records at the start of `bytes`, joined. */
export function recordPayloads(bytes: Uint8Array): Uint8Array {
  const parts: number[] = [];
  let at = 0;
  while (at + 5 <= bytes.length) {
    const length = (bytes[at + 3]! << 8) | bytes[at + 4]!;
    parts.push(...bytes.subarray(at + 5, Math.min(bytes.length, at + 5 + length)));
    at += 5 + length;
  }
  return Uint8Array.from(parts);
}

/** A hello of few fields and no extensions block. */
export const PLAIN: HelloSpec = {
  version: 0x0303,
  random: new Uint8Array(32),
  sessionId: new Uint8Array(32),
  suites: Uint8Array.from([0x13, 0x01]),
  compression: Uint8Array.from([0]),
  extensions: null,
};

/** A handshake message of `size` bytes (for name big.test, ALPN acme-tls/1), padded to it. */
export function helloOfSize(size: number): Uint8Array {
  const message = (padding: number) =>
    encodeHello({
      ...PLAIN,
      extensions: [
        { kind: "sni", entries: [{ type: 0, name: ascii("big.test") }] },
        { kind: "other", type: 21, data: new Uint8Array(padding) },
        { kind: "alpn", names: [ascii("acme-tls/1")] },
      ],
    }).message;
  return message(size - message(0).length);
}

/** A hello of PLAIN's fields and then these bytes where its extensions go. */
export function helloEndingIn(tail: number[]): Uint8Array {
  const body = [...encodeHello(PLAIN).message.subarray(4), ...tail];
  return frame(Uint8Array.from([1, 0, body.length >> 8, body.length & 255, ...body]), [16_384]);
}

/** Reads a captured hello in the tests, strictly: every length must add up. */
class Cursor {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.at === this.bytes.length;
  }

  take(length: number): Uint8Array {
    if (this.at + length > this.bytes.length) throw new Error(`ends early at byte ${this.at}`);
    this.at += length;
    return this.bytes.subarray(this.at - length, this.at);
  }

  uint(width: number): number {
    return this.take(width).reduce((value, byte) => value * 256 + byte, 0);
  }

  vector(width: number): Cursor {
    return new Cursor(this.take(this.uint(width)));
  }

  rest(): Uint8Array {
    return this.take(this.bytes.length - this.at);
  }

  /** Reads items until this vector is used up. */
  each<T>(read: (cursor: Cursor) => T): T[] {
    const items: T[] = [];
    while (!this.done) items.push(read(this));
    return items;
  }

  /** The one vector this one holds, with nothing after it. */
  only(width: number): Cursor {
    const inner = this.vector(width);
    if (!this.done) throw new Error("bytes after a list");
    return inner;
  }
}

/** A captured hello as a description; throws unless it is well formed. */
export function decodeHello(message: Uint8Array): HelloSpec {
  const hello = new Cursor(message);
  if (hello.uint(1) !== 1) throw new Error("not a ClientHello");
  if (hello.uint(3) !== message.length - 4) throw new Error("the hello's length is not its size");
  const version = hello.uint(2);
  const random = hello.take(32);
  const sessionId = hello.vector(1).rest();
  const suites = hello.vector(2).rest();
  const compression = hello.vector(1).rest();
  const extensions = hello.done ? null : hello.vector(2).each(readExtension);
  if (!hello.done) throw new Error("bytes after the extensions");
  return { version, random, sessionId, suites, compression, extensions };
}

function readExtension(extensions: Cursor): Extension {
  const type = extensions.uint(2);
  const data = extensions.vector(2);
  if (type === SERVER_NAME) {
    const entries = data
      .only(2)
      .each((list) => ({ type: list.uint(1), name: list.vector(2).rest() }));
    return { kind: "sni", entries };
  }
  if (type === ALPN)
    return { kind: "alpn", names: data.only(2).each((list) => list.vector(1).rest()) };
  return { kind: "other", type, data: data.rest() };
}
