// Reads a `.http` file holding a whole response: status line, header lines, a
// blank line, then the body verbatim. Configuration-time code, not hot path.

export interface HttpFile {
  status: number;
  headers: [string, string][];
  body: string;
}

const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const STATUS_RE = /^HTTP\/1\.[01] ([1-5]\d\d)(?: [^\r\n]*)?$/;
// Framing and connection headers are set by the writer, never by the file.
const DROPPED = new Set(["content-length", "connection", "transfer-encoding", "keep-alive"]);

/** Next line from `pos`: [line, position after its terminator], LF or CRLF. */
function nextLine(text: string, pos: number): [string, number] {
  const lf = text.indexOf("\n", pos);
  if (lf < 0) return [text.slice(pos), text.length];
  const lineEnd = lf > pos && text.charCodeAt(lf - 1) === 0x0d ? lf - 1 : lf;
  return [text.slice(pos, lineEnd), lf + 1];
}

/** Parses a `.http` response file; throws Error naming the line at fault. */
export function parseHttpFile(text: string): HttpFile {
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  if (pos >= text.length) throw new Error("http file: empty");
  const [statusLine, afterStatus] = nextLine(text, pos);
  const m = STATUS_RE.exec(statusLine);
  if (m === null) {
    throw new Error(
      `http file line 1: expected "HTTP/1.1 <status> [reason]", got ${JSON.stringify(statusLine)}`,
    );
  }
  const status = Number(m[1]);
  pos = afterStatus;
  const headers: [string, string][] = [];
  let lineNo = 1;
  while (pos < text.length) {
    lineNo++;
    const [line, next] = nextLine(text, pos);
    pos = next;
    if (line === "") return { status, headers, body: text.slice(pos) };
    const colon = line.indexOf(":");
    if (colon < 0) throw new Error(`http file line ${lineNo}: header line without ":"`);
    const name = line.slice(0, colon);
    if (!TOKEN_RE.test(name))
      throw new Error(`http file line ${lineNo}: invalid header name ${JSON.stringify(name)}`);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    if (/[\0-\x08\x0a-\x1f\x7f]/.test(value)) {
      throw new Error(`http file line ${lineNo}: control character in value of ${name}`);
    }
    if (!DROPPED.has(name.toLowerCase())) headers.push([name, value]);
  }
  return { status, headers, body: "" };
}
