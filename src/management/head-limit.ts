/**
 * Oversize request heads, answered in JSON like every other refusal: a request
 * line over MAX_REQUEST_LINE is 414, a head over MAX_HEAD_SIZE is 431. The
 * numbers are the data plane's defaults (`max_request_line`, `max_head_size`).
 * Bun's own, bare 431 sits above them (see server.ts).
 */
import type { MiddlewareHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

export const MAX_REQUEST_LINE = 8192;
export const MAX_HEAD_SIZE = 16384;

/** `METHOD target HTTP/1.1` and each `name: value` with its CRLF, as they came (near enough). */
function headSizes(request: Request): { line: number; head: number } {
  const url = request.url;
  // The target as sent: the URL without its scheme and authority (origin-form).
  const start = url.indexOf("/", url.indexOf("//") + 2);
  const target = start < 0 ? 1 : url.length - start;
  const line = request.method.length + 1 + target + " HTTP/1.1".length;
  let head = line + 2 + 2;
  for (const [name, value] of request.headers) head += name.length + 2 + value.length + 2;
  return { line, head };
}

export function limitHead(): MiddlewareHandler {
  return async (c, next) => {
    const { line, head } = headSizes(c.req.raw);
    const refuse = (status: ContentfulStatusCode, message: string) =>
      c.json({ error: message, issues: [{ path: [], message }] }, status);
    if (line > MAX_REQUEST_LINE) {
      return refuse(414, `the request line is longer than ${MAX_REQUEST_LINE} bytes`);
    }
    if (head > MAX_HEAD_SIZE) {
      return refuse(431, `the request head is larger than ${MAX_HEAD_SIZE} bytes`);
    }
    await next();
  };
}
