/** Request bodies are JSON; anything else is the client's error, answered before any change. */
import { isAscii } from "node:buffer";
import type { Context } from "hono";
import { invalid } from "./errors.ts";

export type JsonBody = { ok: true; value: unknown } | { ok: false; response: Response };

export async function readJson(c: Context): Promise<JsonBody> {
  return parseJsonBody(c, await c.req.text());
}

export function parseJsonBody(c: Context, text: string): JsonBody {
  if (text.trim() === "") return { ok: false, response: notJson(c, "the request has no body") };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return {
      ok: false,
      response: notJson(c, error instanceof Error ? error.message : String(error)),
    };
  }
}

/** A 400 like every other: the reason in `error` and as the one issue, at the body itself. */
function notJson(c: Context, reason: string): Response {
  return invalid(c, "JSON", [{ path: [], message: reason }]);
}

export interface StreamedBody {
  /** The whole text, as `c.req.text()` gives it. */
  text(): string;
}

/**
 * Bytes gathered before they are handed on: a client sending its body in tiny
 * pieces costs no more than one sending it in large ones.
 */
export const PIECE = 64 * 1024;

/**
 * Reads the body as it arrives, handing each piece's text to `onText` at once,
 * so the caller's work overlaps with receiving. The text is what `c.req.text()`
 * gives (UTF-8, a bad sequence replaced), cut anywhere.
 */
export async function streamBody(
  c: Context,
  onText: (text: string) => void,
): Promise<StreamedBody> {
  const decoder = new PieceDecoder();
  let gathered: Uint8Array[] = [];
  let size = 0;
  const body = c.req.raw.body;
  if (body !== null) {
    for await (const bytes of body) {
      gathered.push(bytes);
      size += bytes.length;
      if (size < PIECE) continue;
      onText(decoder.decode(gathered.length === 1 ? bytes : Buffer.concat(gathered, size)));
      gathered = [];
      size = 0;
    }
    if (size > 0) onText(decoder.decode(Buffer.concat(gathered, size)));
    onText(decoder.end());
  }
  return { text: () => new TextDecoder().decode(Buffer.concat(decoder.parts)) };
}

/** UTF-8 in pieces, cut anywhere; keeps the bytes for the whole text. */
class PieceDecoder {
  readonly parts: Uint8Array[] = [];
  /** Until a byte that is not ASCII: each byte is then its character (a BOM is not ASCII). */
  private utf8: TextDecoder | null = null;

  decode(bytes: Uint8Array): string {
    this.parts.push(bytes);
    if (this.utf8 === null && isAscii(bytes)) {
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
    }
    this.utf8 ??= new TextDecoder();
    return this.utf8.decode(bytes, { stream: true });
  }

  /** What a sequence cut off at the very end stands for. */
  end(): string {
    return this.utf8?.decode() ?? "";
  }
}
