/**
 * Parsers for single setting values, shared by the file and the flags. Each
 * throws an Error whose message the caller prefixes with where the value came from.
 */
import { type ListenAddress, parseAddress } from "./address.ts";

/** Longer delays overflow timers (2^31 - 1 milliseconds) and would fire at once. */
const MAX_SECONDS = 2_147_483;
const DECIMAL_RE = /^(?:\d+(?:\.\d*)?|\.\d+)$/;

/** One address, or several separated by commas. */
export function parseAddressList(text: string): ListenAddress[] {
  return text.split(",").map((item) => {
    if (item.trim() === "") throw new Error(`empty address in "${text.trim()}"`);
    return parseAddress(item);
  });
}

/** Seconds greater than zero; fractions allowed. */
export function parsePositiveSeconds(text: string): number {
  const seconds = parseSeconds(text);
  if (seconds === 0) throw new Error(`"${text}" must be more than 0 seconds`);
  return seconds;
}

/** Seconds, zero or more; fractions allowed. */
export function parseSeconds(text: string): number {
  if (!DECIMAL_RE.test(text)) throw new Error(`"${text}" is not a number of seconds`);
  const seconds = Number(text);
  if (seconds > MAX_SECONDS) throw new Error(`"${text}" is more than ${MAX_SECONDS} seconds`);
  return seconds;
}

export function parsePositiveInteger(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value === 0) {
    throw new Error(`"${text}" is not a positive whole number`);
  }
  return value;
}

export function parsePath(text: string): string {
  if (text === "") throw new Error("a path is required");
  return text;
}

export function parseToken(text: string): string {
  if (text === "") throw new Error("the token is empty");
  // Quoting the value would print the secret.
  if (/\s/.test(text)) throw new Error("the token must not contain white space");
  return text;
}

export function parseBoolean(text: string): boolean {
  const lower = text.toLowerCase();
  if (lower === "true") return true;
  if (lower === "false") return false;
  throw new Error(`"${text}" is not true or false`);
}
