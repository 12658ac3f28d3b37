/**
 * Seeded randomness for the ClientHello reader's tests: well-formed hellos of
 * every shape, record cuts, and mutations that bend them. A seed replays a case.
 */
import {
  ascii,
  type EncodedHello,
  type Extension,
  type HelloSpec,
  type NameEntry,
} from "./hello-encoding.ts";

export type Random = () => number;

/** A small seeded generator (mulberry32), so a failure can be replayed. */
export function seeded(seed: number): Random {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer from `low` to `high`, both included. */
export function between(random: Random, low: number, high: number): number {
  return low + Math.floor(random() * (high - low + 1));
}

export function randomBytes(random: Random, length: number): Uint8Array {
  return Uint8Array.from({ length }, () => between(random, 0, 255));
}

function shuffled<T>(random: Random, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = between(random, 0, i);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Mostly short, now and then up to `most`. */
function length(random: Random, least: number, most: number): number {
  return random() < 0.8
    ? between(random, least, Math.min(most, least + 20))
    : between(random, least, most);
}

const HOST_CHARACTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-";

function hostName(random: Random): Uint8Array {
  const size = length(random, 1, 253);
  let name = "";
  for (let i = 0; i < size; i++)
    name += HOST_CHARACTERS[between(random, 0, HOST_CHARACTERS.length - 1)];
  return ascii(name);
}

function serverName(random: Random): Extension | null {
  const shape = between(random, 0, 3);
  if (shape === 0) return null;
  const other = (): NameEntry => ({
    type: between(random, 1, 255),
    name: randomBytes(random, length(random, 1, 60)),
  });
  const host = { type: 0, name: hostName(random) };
  if (shape === 1) return { kind: "sni", entries: [host] };
  if (shape === 2) return { kind: "sni", entries: [other(), host] };
  return { kind: "sni", entries: [other()] };
}

function protocols(random: Random): Extension | null {
  if (random() < 0.25) return null;
  const names = Array.from({ length: between(random, 1, 6) }, () =>
    randomBytes(random, length(random, 1, 255)),
  );
  return { kind: "alpn", names };
}

function otherExtension(random: Random): Extension {
  let type = between(random, 1, 65535);
  if (type === 16) type = 17;
  const roll = random();
  // Now and then a large one, as a padding extension would be.
  const size = roll < 0.3 ? 0 : roll < 0.32 ? between(random, 2000, 4000) : length(random, 1, 120);
  return { kind: "other", type, data: randomBytes(random, size) };
}

/** A well-formed hello of random shape: mostly under 1 KiB, now and then a few KiB. */
export function randomHello(random: Random): HelloSpec {
  const extensions: Extension[] = Array.from({ length: between(random, 0, 8) }, () =>
    otherExtension(random),
  );
  const sni = serverName(random);
  const alpn = protocols(random);
  if (sni !== null) extensions.push(sni);
  if (alpn !== null) extensions.push(alpn);
  return {
    version: random() < 0.8 ? 0x0303 : between(random, 0, 65535),
    random: randomBytes(random, 32),
    sessionId: randomBytes(random, between(random, 0, 32)),
    suites: randomBytes(random, 2 * between(random, 1, 60)),
    compression: randomBytes(random, between(random, 1, 4)),
    extensions:
      random() < 0.1 && sni === null && alpn === null ? null : shuffled(random, extensions),
  };
}

/** Record sizes for cutting a message: 1-byte records, small ones, or any size. */
export function recordSizes(random: Random, total: number): number[] {
  const shape = between(random, 0, 2);
  if (shape === 0) return [1];
  const most = shape === 1 ? 16 : total;
  return Array.from({ length: total }, () => between(random, 1, most));
}

/** One to three random edits of a hello: flipped, cut, grown, shrunk, or a length bent. */
export function mutate(random: Random, hello: EncodedHello | Uint8Array): Uint8Array {
  const fields = hello instanceof Uint8Array ? [] : hello.fields;
  let bytes = Array.from(hello instanceof Uint8Array ? hello : hello.wire);
  for (let edits = between(random, 1, 3); edits > 0; edits--) {
    const at = between(random, 0, bytes.length);
    const kind = between(random, 0, fields.length > 0 ? 4 : 3);
    if (kind === 0 && bytes.length > 0) {
      const spot = Math.min(at, bytes.length - 1);
      bytes[spot] = bytes[spot]! ^ between(random, 1, 255);
    } else if (kind === 1) bytes = bytes.slice(0, at);
    else if (kind === 2) bytes.splice(at, 0, ...randomBytes(random, between(random, 1, 8)));
    else if (kind === 3) bytes.splice(at, between(random, 1, 8));
    else bendLength(random, bytes, fields[between(random, 0, fields.length - 1)]!);
  }
  return Uint8Array.from(bytes);
}

/** Sets a length prefix to 0, its largest value, or one off. */
function bendLength(random: Random, bytes: number[], field: EncodedHello["fields"][number]): void {
  if (field.at + field.width > bytes.length) return;
  let value = 0;
  for (let i = 0; i < field.width; i++) value = value * 256 + bytes[field.at + i]!;
  const largest = 2 ** (8 * field.width) - 1;
  const bent = [0, largest, value + 1, value - 1][between(random, 0, 3)]!;
  const clamped = Math.max(0, Math.min(largest, bent));
  for (let i = 0; i < field.width; i++) {
    bytes[field.at + i] = Math.floor(clamped / 256 ** (field.width - 1 - i)) % 256;
  }
}
