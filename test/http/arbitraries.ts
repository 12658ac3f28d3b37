// fast-check generators for HTTP/1.1 heads and chunked bodies.
import fc from "fast-check";

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const PATH_CHARS =
  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/?%{}|^`[]\"<>\\";
const HOST_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-.";

const str = (chars: string, min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...chars.split("")), minLength: min, maxLength: max });

export const token = (max = 12) => str(TCHARS, 1, max);

/** A field value without leading or trailing white space (so it round-trips). */
export const fieldValueArb = fc
  .array(
    fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f),
    { maxLength: 30 },
  )
  .map((cs) => String.fromCharCode(...cs).replace(/^[ \t]+|[ \t]+$/g, ""));

export const hostArb = fc
  .tuple(str(HOST_CHARS, 1, 20), fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }))
  .map(([h, port]) => (port === undefined ? h : `${h}:${port}`));

/** Optional white space (RFC 9110 §5.6.3): what a parser strips around values and list commas. */
export const owsArb = fc.constantFrom("", " ", "  ", "\t", " \t ");

export interface HeadModel {
  leading: number;
  method: string;
  target: string;
  minor: number;
  host: string | null;
  /** [name, value, ows before, ows after] in wire order. */
  fields: [string, string, string, string][];
  contentLength: number;
  chunked: boolean;
  keepAlive: boolean;
  connectionTokens: string[] | null;
  expectContinue: boolean;
  xForwarded: string | null;
}

const connectTarget = fc
  .tuple(str(HOST_CHARS, 1, 20), fc.integer({ min: 1, max: 65535 }))
  .map(([h, p]) => `${h}:${p}`);

const methodAndTarget = fc.oneof(
  fc.tuple(
    fc.oneof(
      fc.constantFrom("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "TRACE", "OPTIONS"),
      str("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 1, 10),
    ),
    str(PATH_CHARS, 0, 40).map((p) => `/${p}`),
  ),
  fc.tuple(
    fc.constant("GET"),
    fc
      .tuple(fc.constantFrom("http", "https", "HTTP"), hostArb, str(PATH_CHARS, 0, 20))
      .map(([s, h, p]) => `${s}://${h}/${p}`),
  ),
  fc.constant(["OPTIONS", "*"] as [string, string]),
  fc.tuple(fc.constant("CONNECT"), connectTarget),
);

/** A Transfer-Encoding value ending in chunked, OWS around its commas. */
const chunkedValue = fc.oneof(
  fc.constantFrom("chunked", "Chunked"),
  fc
    .tuple(
      fc.constantFrom("gzip", "deflate", "compress", "x-gzip", "x-compress", "GZIP"),
      owsArb,
      owsArb,
    )
    .map(([coding, a, b]) => `${coding}${a},${b}chunked`),
);

/** A comma list of `items`, OWS around each comma. */
function list(items: string[], seps: [string, string][]): string {
  return items.map((t, i) => (i === 0 ? t : `${seps[i - 1]![0]},${seps[i - 1]![1]}${t}`)).join("");
}

/**
 * A valid request head model: generic X- fields plus Host, framing, Connection,
 * Expect and X-Forwarded-Proto fields, each with OWS around its value. A
 * CONNECT never gets a framing field (see connectArb for those).
 */
export const requestModel: fc.Arbitrary<HeadModel> = fc
  .record({
    leading: fc.integer({ min: 0, max: 2 }),
    mt: methodAndTarget,
    minor: fc.integer({ min: 0, max: 1 }),
    host: fc.option(hostArb, { nil: null }),
    extra: fc.array(fc.tuple(token(), fieldValueArb, owsArb, owsArb), { maxLength: 12 }),
    framing: fc.oneof(
      fc.constant<[string, number]>(["none", 0]),
      fc.tuple(fc.constant("cl"), fc.nat({ max: 1_000_000 })),
      fc.constant<[string, number]>(["te", 0]),
    ),
    te: chunkedValue,
    conn: fc.oneof(
      fc.constant<string[]>([]),
      fc.array(fc.oneof(fc.constantFrom("close", "keep-alive", "Keep-Alive", "CLOSE"), token()), {
        minLength: 1,
        maxLength: 4,
      }),
    ),
    seps: fc.array(fc.tuple(owsArb, owsArb), { minLength: 3, maxLength: 3 }),
    expect: fc.option(fc.constantFrom("100-continue", "100-Continue"), { nil: null }),
    proto: fc.option(fc.constantFrom("http", "https", "HTTPS", "Wss"), { nil: null }),
    ows: fc.array(fc.tuple(owsArb, owsArb), { minLength: 5, maxLength: 5 }),
    positions: fc.array(fc.nat(), { minLength: 5, maxLength: 5 }),
  })
  .map(
    ({
      leading,
      mt,
      minor,
      host,
      extra,
      framing,
      te,
      conn,
      seps,
      expect,
      proto,
      ows,
      positions,
    }) => {
      const fields: [string, string, string, string][] = extra.map(([n, v, a, b]) => [
        `X-${n}`,
        v,
        a,
        b,
      ]);
      const insert = (name: string, value: string, k: number) =>
        fields.splice(positions[k]! % (fields.length + 1), 0, [
          name,
          value,
          ows[k]![0],
          ows[k]![1],
        ]);
      const needHost = minor === 1 || host !== null;
      const hostValue = host ?? "example.com";
      if (needHost) insert("Host", hostValue, 0);
      let contentLength = -1;
      let chunked = false;
      if (mt[0] !== "CONNECT") {
        if (framing[0] === "cl") {
          contentLength = framing[1];
          insert("Content-Length", String(contentLength), 1);
        } else if (framing[0] === "te" && minor === 1) {
          chunked = true;
          insert("Transfer-Encoding", te, 1);
        }
      }
      const lower = conn.map((t) => t.toLowerCase());
      if (conn.length > 0) insert("Connection", list(conn, seps), 2);
      if (expect !== null) insert("Expect", expect, 3);
      if (proto !== null) insert("X-Forwarded-Proto", proto, 4);
      const tokens = lower.filter((t) => t !== "close" && t !== "keep-alive" && t !== "upgrade");
      const keepAlive = !lower.includes("close") && (minor === 1 || lower.includes("keep-alive"));
      return {
        leading,
        method: mt[0],
        target: mt[1],
        minor,
        host: needHost ? hostValue : null,
        fields,
        contentLength,
        chunked,
        keepAlive,
        connectionTokens: tokens.length > 0 ? tokens : null,
        expectContinue: expect !== null && minor === 1,
        xForwarded: proto?.toLowerCase() ?? null,
      };
    },
  );

/**
 * A CONNECT head, valid but for the framing fields it may carry: at most one
 * Content-Length (0 included) and one Transfer-Encoding, OWS around them.
 * `framed` tells whether it carries any (and must then be refused).
 */
export const connectArb = fc
  .record({
    m: requestModel,
    target: connectTarget,
    cl: fc.option(fc.oneof(fc.constant(0), fc.nat({ max: 1_000_000 })), { nil: null, freq: 2 }),
    te: fc.option(fc.oneof(chunkedValue, fc.constantFrom("gzip", "x-gzip")), {
      nil: null,
      freq: 2,
    }),
    ows: fc.array(owsArb, { minLength: 4, maxLength: 4 }),
    positions: fc.array(fc.nat(), { minLength: 2, maxLength: 2 }),
  })
  .map(({ m, target, cl, te, ows, positions }) => {
    const fields = m.fields.filter(([n]) => n !== "Content-Length" && n !== "Transfer-Encoding");
    const insert = (name: string, value: string, k: number) =>
      fields.splice(positions[k]! % (fields.length + 1), 0, [
        name,
        value,
        ows[2 * k]!,
        ows[2 * k + 1]!,
      ]);
    if (cl !== null) insert("Content-Length", String(cl), 0);
    if (te !== null) insert("Transfer-Encoding", te, 1);
    const model: HeadModel = {
      ...m,
      method: "CONNECT",
      target,
      fields,
      contentLength: -1,
      chunked: false,
    };
    return { model, framed: cl !== null || te !== null };
  });

export function serialise(m: HeadModel): string {
  let s = "\r\n".repeat(m.leading);
  s += `${m.method} ${m.target} HTTP/1.${m.minor}\r\n`;
  for (const [n, v, a, b] of m.fields) s += `${n}:${a}${v}${v === "" ? "" : b}\r\n`;
  return `${s}\r\n`;
}

/** Sorted cut points inside [0, len]. */
export const cutsArb = fc.array(fc.nat(), { maxLength: 12 });
export function cutPoints(raw: number[], len: number): number[] {
  return [...new Set(raw.map((x) => x % (len + 1)))].sort((a, b) => a - b);
}

const extArb = fc.array(
  fc.tuple(
    token(6),
    fc.option(
      fc.oneof(
        token(6),
        str('abc \t!#xyz\\"', 0, 8).map((q) => `"${q.replace(/[\\"]/g, "\\$&")}"`),
      ),
      { nil: undefined },
    ),
  ),
  { maxLength: 3 },
);

/** An encoded chunked body: [wire text (latin1), its length]. */
export const chunkedBodyArb = fc
  .record({
    chunks: fc.array(
      fc.tuple(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        extArb,
        fc.boolean(),
        fc.integer({ min: 0, max: 3 }),
      ),
      { maxLength: 8 },
    ),
    lastExt: extArb,
    trailers: fc.array(fc.tuple(token(), fieldValueArb), { maxLength: 3 }),
  })
  .map(({ chunks, lastExt, trailers }) => {
    const ext = (e: [string, string | undefined][]) =>
      e.map(([n, v]) => (v === undefined ? `;${n}` : `;${n}=${v}`)).join("");
    let s = "";
    for (const [data, e, upper, zeros] of chunks) {
      const hex = data.length.toString(16);
      s += `${"0".repeat(zeros)}${upper ? hex.toUpperCase() : hex}${ext(e)}\r\n${String.fromCharCode(...data)}\r\n`;
    }
    s += `0${ext(lastExt)}\r\n`;
    for (const [n, v] of trailers) s += `${n}: ${v}\r\n`;
    return `${s}\r\n`;
  });

/** Bytes biased towards what HTTP parsers branch on. */
export const httpishBytes = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        "GET ",
        "POST ",
        "CONNECT ",
        "OPTIONS ",
        "/",
        "*",
        " HTTP/1.1",
        " HTTP/1.0",
        "HTTP/1.1 200 OK",
        "HTTP/1.0 ",
        "\r\n",
        "\r",
        "\n",
        "\r\n\r\n",
        ":",
        ": ",
        " ",
        "\t",
        ",",
        ";",
        "=",
        '"',
        "\0",
        "\x7f",
        "\x80\xff",
        "Host",
        "Content-Length",
        "Transfer-Encoding",
        "chunked",
        "gzip",
        "Connection",
        "close",
        "keep-alive",
        "Upgrade",
        "Expect",
        "X-Forwarded-Proto",
        "0",
        "5",
        "ff",
        "http://",
        "[::1]",
        "@",
      ),
      fc.string({ minLength: 1, maxLength: 4 }),
    ),
    { maxLength: 40 },
  )
  .map((parts) => Buffer.from(parts.join(""), "latin1"));

export const MUTATION_BYTES = [
  0x0d, 0x0a, 0x20, 0x09, 0x00, 0x3a, 0x2c, 0x3b, 0x22, 0x7f, 0x80, 0xff, 0x41, 0x30, 0x0b,
];

/** Mutations: [kind 0 replace / 1 insert / 2 delete, position, byte]. */
export const mutationsArb = fc.array(
  fc.tuple(
    fc.integer({ min: 0, max: 2 }),
    fc.nat(),
    fc.oneof(fc.constantFrom(...MUTATION_BYTES), fc.integer({ min: 0, max: 255 })),
  ),
  { minLength: 1, maxLength: 4 },
);

export function mutate(buf: Buffer, muts: [number, number, number][]): Buffer {
  const bytes = Array.from(buf);
  for (const [kind, pos, byte] of muts) {
    const i = pos % (bytes.length + 1);
    if (kind === 0 && i < bytes.length) bytes[i] = byte;
    else if (kind === 1) bytes.splice(i, 0, byte);
    else bytes.splice(i, 1);
  }
  return Buffer.from(bytes);
}

const RESPONSE_FRAMING: [string, string][] = [
  ["Content-Length", "12"],
  ["Content-Length", "12, 12"],
  ["Transfer-Encoding", "chunked"],
  ["Transfer-Encoding", "gzip"],
  ["Transfer-Encoding", "gzip, chunked"],
  ["Transfer-Encoding", "chunked, gzip"],
  ["Connection", "close"],
  ["Connection", "keep-alive, x-a"],
];

/**
 * A valid response head, twice: with OWS around every field value and list
 * comma, and with none. Both must parse to the same framing and connection.
 */
export const responseOwsArb = fc
  .record({
    minor: fc.integer({ min: 0, max: 1 }),
    status: fc.integer({ min: 100, max: 599 }),
    lines: fc.array(
      fc.tuple(
        fc.oneof(
          fc.constantFrom(...RESPONSE_FRAMING),
          fc.tuple(
            token().map((n) => `X-${n}`),
            fieldValueArb,
          ),
        ),
        owsArb,
        owsArb,
        owsArb,
        owsArb,
      ),
      { maxLength: 6 },
    ),
  })
  .map(({ minor, status, lines }) => {
    let plain = `HTTP/1.${minor} ${status} Reason\r\n`;
    let spaced = plain;
    for (const [[name, value], a, b, c, d] of lines) {
      const framing =
        name === "Content-Length" || name === "Transfer-Encoding" || name === "Connection";
      const commas = framing ? value.replace(/, /g, `${c},${d}`) : value;
      plain += `${name}:${value}\r\n`;
      spaced += `${name}:${a}${commas}${value === "" ? "" : b}\r\n`;
    }
    return [`${plain}\r\n`, `${spaced}\r\n`] as [string, string];
  });

/** A valid response head as wire text. */
export const responseArb = fc
  .record({
    minor: fc.integer({ min: 0, max: 1 }),
    status: fc.integer({ min: 100, max: 599 }),
    reason: fc.oneof(fc.constant(""), fieldValueArb),
    fields: fc.array(fc.tuple(token(), fieldValueArb, owsArb, owsArb), { maxLength: 8 }),
    framing: fc.oneof(
      fc.constant(""),
      fc
        .tuple(fc.constantFrom(...RESPONSE_FRAMING), owsArb, owsArb)
        .map(([[name, value], a, b]) => `${name}:${a}${value}${b}\r\n`),
    ),
  })
  .map(({ minor, status, reason, fields, framing }) => {
    let s = `HTTP/1.${minor} ${status}${reason === "" ? "" : ` ${reason}`}\r\n${framing}`;
    for (const [n, v, a, b] of fields) s += `X-${n}:${a}${v}${b}\r\n`;
    return `${s}\r\n`;
  });

/** A response head with hop-by-hop lines mixed among others, anywhere, as wire text. */
export const hopByHopResponseArb = fc
  .record({
    minor: fc.integer({ min: 0, max: 1 }),
    lines: fc.array(
      fc.oneof(
        fc.tuple(fc.constantFrom("X-A", "X-Bb", "Server", "Date"), fieldValueArb),
        fc.tuple(
          fc.constantFrom("Connection", "connection"),
          fc.constantFrom("keep-alive", "close", "x-a", "keep-alive, X-Bb"),
        ),
        fc.constantFrom<[string, string]>(
          ["Keep-Alive", "timeout=5, max=1000"],
          ["TE", "trailers"],
          ["Trailer", "X-A"],
          ["Upgrade", "h2c"],
        ),
        fc.tuple(fc.constantFrom("Proxy-Connection"), fieldValueArb),
      ),
      { maxLength: 10 },
    ),
  })
  .map(({ minor, lines }) => {
    let s = `HTTP/1.${minor} 200 OK\r\nContent-Length: 5\r\n`;
    for (const [name, value] of lines) s += `${name}: ${value}\r\n`;
    return `${s}\r\n`;
  });
