// Whole responses built in one buffer, for locally generated answers (static
// bodies, redirects, error pages).

import { reasonPhrase } from "./reason-phrases.ts";

export { type HttpFile, parseHttpFile } from "./http-file.ts";
export { reasonPhrase } from "./reason-phrases.ts";

const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE_RE = /[\0-\x08\x0a-\x1f\x7f]/;
const OWN = new Set(["content-length", "connection", "transfer-encoding", "keep-alive"]);

/** 1xx, 204 and 304 never carry content, nor (1xx, 204) a Content-Length. */
function statusHasContent(status: number): boolean {
  return status >= 200 && status !== 204 && status !== 304;
}

/**
 * An HTTP/1.1 response with `headers` and `body`. Content-Length and
 * Connection are always ours (same-named entries in `headers` are dropped):
 * Connection is "keep-alive" or "close" explicitly for every client, because
 * an HTTP/1.0 client only keeps the connection when told and the line costs
 * an HTTP/1.1 client nothing. With `head` (answering HEAD) the body is left
 * out but Content-Length still gives its size. Throws on a header that could
 * split the response (bad name, CR/LF or other controls in a value).
 */
export function simpleResponse(
  status: number,
  headers: [string, string][],
  body: Uint8Array | string,
  keepAlive: boolean,
  head = false,
): Buffer {
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new Error(`invalid status ${status}`);
  }
  const content = statusHasContent(status);
  const bodyBytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  let text = `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\n`;
  for (const [name, value] of headers) {
    if (!TOKEN_RE.test(name)) throw new Error(`invalid header name ${JSON.stringify(name)}`);
    if (BAD_VALUE_RE.test(value)) throw new Error(`invalid value for header ${name}`);
    if (OWN.has(name.toLowerCase())) continue;
    text += `${name}: ${value}\r\n`;
  }
  // For 304 a Content-Length of 0 would misstate the selected representation.
  if (content) text += `Content-Length: ${bodyBytes.byteLength}\r\n`;
  text += keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  const headLen = Buffer.byteLength(text, "utf8");
  const bodyLen = content && !head ? bodyBytes.byteLength : 0;
  const out = Buffer.allocUnsafe(headLen + bodyLen);
  out.write(text, 0, "utf8");
  if (bodyLen > 0) out.set(bodyBytes, headLen);
  return out;
}

/**
 * A plain-text answer that closes the connection, for requests Mantrid refuses
 * or cannot serve; `extra` headers such as Retry-After go before the body.
 */
export function errorResponse(
  status: number,
  reason: string,
  extra: [string, string][] = [],
): Buffer {
  return simpleResponse(
    status,
    [["Content-Type", "text/plain; charset=utf-8"], ...extra],
    `${reason}\n`,
    false,
  );
}
