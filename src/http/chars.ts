// Byte classes as 256-entry lookup tables: one load per byte on the hot path.

export const HTAB = 0x09;
export const LF = 0x0a;
export const CR = 0x0d;
export const SP = 0x20;
export const COLON = 0x3a;
export const COMMA = 0x2c;
export const SEMI = 0x3b;
export const DQUOTE = 0x22;
export const SLASH = 0x2f;
export const BACKSLASH = 0x5c;

function table(accept: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = accept(c) ? 1 : 0;
  return t;
}

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** RFC 9110 tchar. */
export const TOKEN = table((c) => isAlnum(c) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)));

/**
 * Request-target bytes: visible ASCII except "#" (a fragment is never sent).
 * Browsers send "{", "|", "^" and friends raw in query strings, so those pass.
 */
export const TARGET = table((c) => c > 0x20 && c < 0x7f && c !== 0x23);

/** Host field value: uri-host [":" port], including IP-literals. */
export const HOST = table(
  (c) => isAlnum(c) || "-._~!$&'()*+,;=%:[]".includes(String.fromCharCode(c)),
);

/** field-vchar / SP / HTAB, obs-text included. */
export const FIELD_VALUE = table((c) => c === SP || c === HTAB || (c > 0x20 && c !== 0x7f));

/** qdtext of a quoted-string (RFC 9110 §5.6.4), excluding the backslash. */
export const QDTEXT = table(
  (c) =>
    c === HTAB || c === SP || c === 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c !== 0x7f),
);

/** Hex digit value, 255 for anything else. */
export const HEX = (() => {
  const t = new Uint8Array(256).fill(255);
  for (let c = 0; c < 10; c++) t[0x30 + c] = c;
  for (let c = 0; c < 6; c++) {
    t[0x41 + c] = 10 + c;
    t[0x61 + c] = 10 + c;
  }
  return t;
})();
