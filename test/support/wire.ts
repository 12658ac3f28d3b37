/**
 * Raw HTTP over real sockets, for tests: send exact bytes, read what comes back,
 * and split it into responses by their framing.
 */
import type { Socket } from "bun";

export interface RawConnection {
  send(bytes: string | Uint8Array): void;
  /** Everything received so far. */
  readonly received: () => Buffer;
  /** Resolves once `predicate(received)` holds (checked on every arrival). */
  until(predicate: (received: Buffer) => boolean): Promise<Buffer>;
  /** Resolves with everything received when the server closes the connection. */
  closed: Promise<Buffer>;
  end(): void;
  destroy(): void;
  socket: Socket<undefined>;
}

export async function connect(port: number, host = "127.0.0.1"): Promise<RawConnection> {
  const chunks: Buffer[] = [];
  let total: Buffer = Buffer.alloc(0);
  let waiters: { predicate: (b: Buffer) => boolean; resolve: (b: Buffer) => void }[] = [];
  let closeResolve!: (b: Buffer) => void;
  const closed = new Promise<Buffer>((resolve) => {
    closeResolve = resolve;
  });
  const check = () => {
    waiters = waiters.filter((w) => {
      if (w.predicate(total)) {
        w.resolve(total);
        return false;
      }
      return true;
    });
  };
  const socket = await Bun.connect({
    hostname: host,
    port,
    allowHalfOpen: true,
    socket: {
      data(_socket, data) {
        chunks.push(data);
        total = Buffer.concat([total, data]);
        check();
      },
      end(s) {
        s.end();
      },
      close() {
        closeResolve(total);
        for (const w of waiters) w.resolve(total);
        waiters = [];
      },
    },
  });
  return {
    socket,
    send(bytes) {
      const buffer = typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes;
      let offset = 0;
      // Tests send small amounts; loop until the kernel took all of it.
      while (offset < buffer.length) {
        const n = socket.write(buffer.subarray(offset));
        if (n <= 0) break;
        offset += n;
      }
    },
    received: () => total,
    until(predicate) {
      if (predicate(total)) return Promise.resolve(total);
      return new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
    closed,
    end: () => socket.shutdown(),
    destroy: () => socket.terminate(),
  };
}

export interface ParsedResponse {
  status: number;
  headers: Record<string, string>;
  /** Every header line in order, names as sent. */
  rawHeaders: [string, string][];
  body: Buffer;
  /** Bytes this response took on the wire. */
  length: number;
}

/**
 * Splits a byte stream into complete responses (Content-Length, chunked, or no
 * body for HEAD/1xx/204/304). `methods` says which request each answers, for HEAD.
 */
export function parseResponses(bytes: Buffer, methods: string[] = []): ParsedResponse[] {
  const out: ParsedResponse[] = [];
  let at = 0;
  while (at < bytes.length) {
    const end = bytes.indexOf("\r\n\r\n", at, "latin1");
    if (end < 0) break;
    const lines = bytes.toString("latin1", at, end).split("\r\n");
    const status = Number(lines[0]!.split(" ")[1]);
    const rawHeaders: [string, string][] = lines.slice(1).map((line: string) => {
      const colon = line.indexOf(":");
      return [line.slice(0, colon), line.slice(colon + 1).trim()];
    });
    const headers: Record<string, string> = {};
    for (const [name, value] of rawHeaders) headers[name.toLowerCase()] = value;
    let bodyStart = end + 4;
    let body: Buffer = Buffer.alloc(0);
    const method = status >= 200 ? methods[out.filter((r) => r.status >= 200).length] : undefined;
    const bodiless = method === "HEAD" || status < 200 || status === 204 || status === 304;
    if (!bodiless && headers["transfer-encoding"]?.includes("chunked")) {
      const parts: Buffer[] = [];
      let p = bodyStart;
      for (;;) {
        const lineEnd = bytes.indexOf("\r\n", p, "latin1");
        if (lineEnd < 0) return out;
        const size = Number.parseInt(bytes.toString("latin1", p, lineEnd), 16);
        p = lineEnd + 2;
        if (size === 0) {
          const trailerEnd = bytes.indexOf("\r\n", p, "latin1");
          if (trailerEnd < 0) return out;
          p = trailerEnd + 2;
          break;
        }
        if (p + size + 2 > bytes.length) return out;
        parts.push(bytes.subarray(p, p + size));
        p += size + 2;
      }
      body = Buffer.concat(parts);
      bodyStart = p;
    } else if (!bodiless && headers["content-length"] !== undefined) {
      const length = Number(headers["content-length"]);
      if (bodyStart + length > bytes.length) break;
      body = bytes.subarray(bodyStart, bodyStart + length);
      bodyStart += length;
    } else if (!bodiless) {
      body = bytes.subarray(bodyStart);
      bodyStart = bytes.length;
    }
    out.push({ status, headers, rawHeaders, body, length: bodyStart - at });
    at = bodyStart;
  }
  return out;
}

/** Resolves when `count` whole responses have arrived on `connection`. */
export async function responses(connection: RawConnection, count: number, methods: string[] = []) {
  const bytes = await connection.until(
    (b) => parseResponses(b, methods).filter((r) => r.status >= 200).length >= count,
  );
  return parseResponses(bytes, methods);
}
