/**
 * The object a caller builds from scanned members by parsing each value, or
 * undefined where the caller would fall back (a value that does not parse).
 */
export function objectOf(members: [string, string][]): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [key, value] of members) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      return undefined;
    }
    // As JSON.parse does: an own property even for "__proto__", the last one winning.
    Object.defineProperty(out, key, {
      value: parsed,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
