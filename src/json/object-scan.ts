/**
 * A fast path through large JSON objects whose values repeat, such as a rule
 * set of a million hostnames on a handful of rules: members come out as a key
 * and the place of its value, so a caller can parse each distinct value text
 * once instead of building a million equal objects.
 *
 * It declines (returns -1) whatever it does not take on, such as an escape in a
 * key, and the caller then falls back to `JSON.parse`, which also words the
 * error. What it accepts, `JSON.parse` accepts with the same meaning, provided
 * the caller parses each value it is given the place of.
 */

export const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const COLON = 0x3a;
export const COMMA = 0x2c;
export const OPEN_BRACE = 0x7b;
export const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** Receives a member's key and where its value starts; returns the index just past the value, or -1. */
export type OnMember = (key: string, valueAt: number) => number;

export function skipWhitespace(text: string, at: number): number {
  for (;;) {
    const code = text.charCodeAt(at);
    if (code !== SPACE && code !== LF && code !== CR && code !== TAB) return at;
    at++;
  }
}

/**
 * Calls `onMember` for each member of the object that starts at `at` (after
 * white space), in order. Returns the index just past its `}`, or -1.
 */
export function scanObject(text: string, at: number, onMember: OnMember): number {
  at = skipWhitespace(text, at);
  if (text.charCodeAt(at) !== OPEN_BRACE) return -1;
  at = skipWhitespace(text, at + 1);
  if (text.charCodeAt(at) === CLOSE_BRACE) return at + 1;
  for (;;) {
    if (text.charCodeAt(at) !== QUOTE) return -1;
    const keyEnd = plainStringEnd(text, at + 1);
    if (keyEnd < 0) return -1;
    const key = text.slice(at + 1, keyEnd);
    at = skipWhitespace(text, keyEnd + 1);
    if (text.charCodeAt(at) !== COLON) return -1;
    const valueEnd = onMember(key, skipWhitespace(text, at + 1));
    if (valueEnd < 0) return -1;
    at = skipWhitespace(text, valueEnd);
    const next = text.charCodeAt(at);
    if (next === CLOSE_BRACE) return at + 1;
    if (next !== COMMA) return -1;
    at = skipWhitespace(text, at + 1);
  }
}

/**
 * The index just past the value at `at`, found by its brackets and quotes; -1
 * when it has no end. The value itself is not checked: the caller parses it.
 */
export function skipValue(text: string, at: number): number {
  const first = text.charCodeAt(at);
  if (first === QUOTE) return stringEnd(text, at + 1);
  if (first !== OPEN_BRACKET && first !== OPEN_BRACE) return scalarEnd(text, at);
  let depth = 0;
  for (let i = at; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      i = stringEnd(text, i + 1) - 1;
      if (i < 0) return -1;
    } else if (code === OPEN_BRACKET || code === OPEN_BRACE) depth++;
    else if (code === CLOSE_BRACKET || code === CLOSE_BRACE) {
      if (--depth === 0) return i + 1;
    }
  }
  return -1;
}

/** True when the value at `at` ends by its own closing character, so a text that starts with it holds exactly it. */
export function isDelimited(text: string, at: number): boolean {
  const first = text.charCodeAt(at);
  return first === OPEN_BRACKET || first === OPEN_BRACE || first === QUOTE;
}

/** The index of the closing quote of a string without escapes or control characters, or -1. */
function plainStringEnd(text: string, at: number): number {
  for (let i = at; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) return i;
    if (code === BACKSLASH || code < SPACE) return -1;
  }
  return -1;
}

/** The index just past the closing quote of a string whose body starts at `at`, or -1. */
function stringEnd(text: string, at: number): number {
  for (let i = at; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) return i + 1;
    if (code === BACKSLASH) i++;
  }
  return -1;
}

/** A number or literal runs to the next structural character or white space. */
function scalarEnd(text: string, at: number): number {
  let i = at;
  for (; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === COMMA || code === CLOSE_BRACE || code === CLOSE_BRACKET) break;
    if (code === SPACE || code === LF || code === CR || code === TAB) break;
  }
  return i === at ? -1 : i;
}
