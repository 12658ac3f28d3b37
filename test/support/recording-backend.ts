/**
 * A raw TCP backend that records every byte it receives, per connection, and
 * answers each whole request it finds with a fixed `200 ok`. Its framing is
 * deliberately simple (Content-Length or chunked): it only ever reads what the
 * proxy in front of it chose to forward, and a test then asserts on exactly that.
 */
import type { Socket, TCPSocketListener } from "bun";

export const OK_RESPONSE = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

export interface RecordedRequest {
  /** The request line, without its CRLF. */
  line: string;
  /** The whole head through the blank line, latin1. */
  head: string;
  /** The body bytes as framed on the wire (chunk sizes included), as far as they arrived. */
  body: Buffer;
  /** The body's framing is complete and the request was answered. */
  complete: boolean;
  connection: RecordedConnection;
  /** Order of arrival across all connections. */
  seq: number;
}

export interface RecordedConnection {
  id: number;
  /** Everything received on this connection. */
  bytes: Buffer;
  requests: RecordedRequest[];
  /** Received bytes that do not (yet) make a request head. */
  tail: Buffer;
  closed: boolean;
}

export interface RecordingBackend {
  port: number;
  connections: RecordedConnection[];
  /** A point in the arrival order, for `since`. */
  mark(): number;
  /** Requests whose head arrived after `mark`, in arrival order. */
  since(mark: number): RecordedRequest[];
  /** Resolves once `predicate()` holds; checked on every arrival and close. */
  until(predicate: () => boolean): Promise<void>;
  close(): void;
}

interface State {
  record: RecordedConnection;
  /** Offset of the first byte not yet assigned to a request. */
  offset: number;
  /** The request whose body is still arriving. */
  current: { request: RecordedRequest; bodyStart: number; chunked: boolean; length: number } | null;
}

/** Where a chunked body starting at `p` ends, or -1 while incomplete. */
function chunkedEnd(bytes: Buffer, p: number): number {
  for (;;) {
    const lineEnd = bytes.indexOf("\r\n", p, "latin1");
    if (lineEnd < 0) return -1;
    const size = Number.parseInt(bytes.toString("latin1", p, lineEnd).split(";")[0]!, 16);
    if (Number.isNaN(size)) return -1;
    p = lineEnd + 2;
    if (size === 0) {
      for (;;) {
        const trailerEnd = bytes.indexOf("\r\n", p, "latin1");
        if (trailerEnd < 0) return -1;
        if (trailerEnd === p) return p + 2;
        p = trailerEnd + 2;
      }
    }
    if (p + size + 2 > bytes.length) return -1;
    p += size + 2;
  }
}

function framing(head: string): { chunked: boolean; length: number } {
  let chunked = false;
  let length = 0;
  for (const line of head.split("\r\n").slice(1)) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "transfer-encoding" && value.toLowerCase().includes("chunked")) chunked = true;
    // A list of equal values ("5, 5") counts once.
    if (name === "content-length") length = Number.parseInt(value, 10);
  }
  return { chunked, length };
}

export async function recordingBackend(): Promise<RecordingBackend> {
  const connections: RecordedConnection[] = [];
  let seq = 0;
  let waiters: { predicate: () => boolean; resolve: () => void }[] = [];
  const check = () => {
    waiters = waiters.filter((waiter) => {
      if (!waiter.predicate()) return true;
      waiter.resolve();
      return false;
    });
  };

  const advance = (socket: Socket<State>, state: State) => {
    const { record } = state;
    const bytes = record.bytes;
    for (;;) {
      if (state.current === null) {
        const end = bytes.indexOf("\r\n\r\n", state.offset, "latin1");
        if (end < 0) break;
        const head = bytes.toString("latin1", state.offset, end + 4);
        const request: RecordedRequest = {
          line: head.slice(0, head.indexOf("\r\n")),
          head,
          body: Buffer.alloc(0),
          complete: false,
          connection: record,
          seq: seq++,
        };
        record.requests.push(request);
        state.current = { request, bodyStart: end + 4, ...framing(head) };
        state.offset = end + 4;
      }
      const { request, bodyStart, chunked, length } = state.current;
      const bodyEnd = chunked
        ? chunkedEnd(bytes, bodyStart)
        : bodyStart + length <= bytes.length
          ? bodyStart + length
          : -1;
      if (bodyEnd < 0) {
        request.body = bytes.subarray(bodyStart);
        break;
      }
      request.body = bytes.subarray(bodyStart, bodyEnd);
      request.complete = true;
      state.current = null;
      state.offset = bodyEnd;
      socket.write(OK_RESPONSE);
    }
    record.tail = state.current === null ? bytes.subarray(state.offset) : Buffer.alloc(0);
  };

  const listener: TCPSocketListener<State> = Bun.listen<State>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        const record: RecordedConnection = {
          id: connections.length,
          bytes: Buffer.alloc(0),
          requests: [],
          tail: Buffer.alloc(0),
          closed: false,
        };
        connections.push(record);
        socket.data = { record, offset: 0, current: null };
      },
      data(socket, chunk) {
        const state = socket.data;
        state.record.bytes = Buffer.concat([state.record.bytes, chunk]);
        advance(socket, state);
        check();
      },
      close(socket) {
        socket.data.record.closed = true;
        check();
      },
    },
  });

  return {
    port: listener.port,
    connections,
    mark: () => seq,
    since: (mark) =>
      connections
        .flatMap((connection) => connection.requests)
        .filter((request) => request.seq >= mark)
        .sort((a, b) => a.seq - b.seq),
    until(predicate) {
      if (predicate()) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
    close: () => listener.stop(true),
  };
}
