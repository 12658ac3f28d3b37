/**
 * The `"hosts"` object of a snapshot as UTF-8, written byte by byte into large
 * blocks: a million rules take a few hundred milliseconds this way, against
 * more than a second built as strings and encoded afterwards.
 */
import { type Rule, type RuleEntries, toTriple } from "../rules/schema.ts";

/** Bytes per block; each block goes to the file as one piece. */
const BLOCK = 1024 * 1024;
/** Rules per slice (a few ms of work); between slices the event loop serves requests. */
const SLICE = 5_000;

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** `{"host":rule,…}` appended to `parts`; returns the number of rules. */
export async function encodeHosts(hosts: RuleEntries, parts: Uint8Array[]): Promise<number> {
  const writer = new HostsWriter(parts);
  for (const [key, rule] of hosts) {
    // The work is the writer's, in plain functions the compiler makes fast; this loop only waits.
    if (writer.add(key, rule) % SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  return writer.end();
}

class HostsWriter {
  private block = Buffer.allocUnsafe(BLOCK);
  private at = 1;
  private rules = 0;
  /** Hostnames that share a rule share its bytes: each distinct rule is encoded once. */
  private readonly encoded = new Map<Rule, Buffer>();
  private last: Rule | undefined;
  private json: Buffer = this.block;

  constructor(private readonly parts: Uint8Array[]) {
    this.block[0] = OPEN_BRACE;
  }

  /** Writes `"key":rule`; returns the number of rules so far. */
  add(key: string, rule: Rule): number {
    if (rule !== this.last) this.json = this.bytesOf(rule);
    const json = this.json;
    // At most three bytes a character; the comma, quotes and colon; room for the closing brace.
    const size = key.length * 3 + json.length + 5;
    if (this.at + size > this.block.length) {
      this.parts.push(this.block.subarray(0, this.at));
      this.block = Buffer.allocUnsafe(Math.max(BLOCK, size));
      this.at = 0;
    }
    const block = this.block;
    let at = this.at;
    if (this.rules > 0) block[at++] = COMMA;
    block[at++] = QUOTE;
    // Keys are validated hostnames (letters, digits, '.', '-', ':', '/'): nothing to
    // escape, one byte a character, copied here rather than by a call per key.
    let i = 0;
    for (; i < key.length; i++) {
      const code = key.charCodeAt(i);
      if (code >= 0x80) break;
      block[at + i] = code;
    }
    at += i === key.length ? i : block.write(key, at, "utf8");
    block[at++] = QUOTE;
    block[at++] = COLON;
    block.set(json, at);
    this.at = at + json.length;
    return ++this.rules;
  }

  /** Closes the object (each member left room for the brace); returns the number of rules. */
  end(): number {
    this.block[this.at++] = CLOSE_BRACE;
    this.parts.push(this.block.subarray(0, this.at));
    return this.rules;
  }

  private bytesOf(rule: Rule): Buffer {
    this.last = rule;
    let bytes = this.encoded.get(rule);
    if (bytes === undefined) {
      bytes = Buffer.from(JSON.stringify(toTriple(rule)));
      this.encoded.set(rule, bytes);
    }
    return bytes;
  }
}
