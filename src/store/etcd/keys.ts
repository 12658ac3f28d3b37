/**
 * Where Mantrid's state lives in etcd: a rule is `<prefix>hostname/<host>`, a
 * drained or disabled backend `<prefix>backend/<host:port>`. Anything else
 * under the prefix is not ours and is left alone.
 */

export type KeyOf = { kind: "rule"; host: string } | { kind: "backend"; key: string } | null;

export interface KeyRange {
  start: Buffer;
  end: Buffer;
}

export class StoreKeys {
  readonly rules: KeyRange;
  readonly backends: KeyRange;
  /** Every key of both kinds (the whole prefix). */
  readonly all: KeyRange;
  private readonly rulePrefix: string;
  private readonly backendPrefix: string;

  constructor(readonly prefix: string) {
    this.rulePrefix = `${prefix}hostname/`;
    this.backendPrefix = `${prefix}backend/`;
    this.rules = prefixRange(this.rulePrefix);
    this.backends = prefixRange(this.backendPrefix);
    this.all = prefixRange(prefix);
  }

  rule(host: string): string {
    return this.rulePrefix + host;
  }

  backend(key: string): string {
    return this.backendPrefix + key;
  }

  /** What a key names, or null for a key that is not one of ours. */
  parse(key: Buffer | string): KeyOf {
    const text = typeof key === "string" ? key : key.toString("utf8");
    if (text.startsWith(this.rulePrefix) && text.length > this.rulePrefix.length) {
      return { kind: "rule", host: text.slice(this.rulePrefix.length) };
    }
    if (text.startsWith(this.backendPrefix) && text.length > this.backendPrefix.length) {
      return { kind: "backend", key: text.slice(this.backendPrefix.length) };
    }
    return null;
  }
}

/** Every key that starts with `prefix`: etcd's [start, end) with end the prefix plus one. */
export function prefixRange(prefix: string): KeyRange {
  const start = Buffer.from(prefix, "utf8");
  const end = Buffer.from(start);
  let i = end.length - 1;
  while (i >= 0 && end[i] === 0xff) i--;
  if (i < 0) return { start, end: Buffer.from([0]) };
  end[i] = end[i]! + 1;
  return { start, end: end.subarray(0, i + 1) };
}

/** The smallest key after `key` (to read on from the last key of a page). */
export function keyAfter(key: Buffer): Buffer {
  return Buffer.concat([key, Buffer.from([0])]);
}
