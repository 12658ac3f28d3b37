/** Talking to the management API: where it is, the token, and what its answers mean. */
import { pathText } from "../management/summary.ts";
import { Failure, UsageError } from "./errors.ts";

export const DEFAULT_URL = "http://127.0.0.1:8042";
/** Replacing a whole rule set is written to disk before the answer; allow for a slow disk. */
const TIMEOUT_MS = 30_000;
/** How long `--wait` waits for a server that is still starting. */
export const WAIT_SECONDS = 30;
const RETRY_MS = 100;
const REFUSED = "connection refused";

export interface Answer {
  status: number;
  contentType: string;
  /** The body as sent, for `--json`. */
  text: string;
  /** The body parsed, or undefined when it was not JSON. */
  body: unknown;
}

export class Connection {
  private readonly base: string;

  /** Until when a refused connection is tried again: a server still starting refuses. */
  private readonly waitUntil: number;

  /** `waitSeconds` > 0: a refused connection is tried again for that long (`--wait`). */
  constructor(
    readonly url: string,
    private readonly token: string | undefined,
    private readonly waitSeconds = 0,
  ) {
    // A base URL may carry a path (behind a reverse proxy); API paths go below it.
    this.base = url.replace(/\/+$/, "");
    this.waitUntil = Date.now() + waitSeconds * 1000;
  }

  async request(method: string, path: string, body?: unknown): Promise<Answer> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await this.fetch(this.base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return {
      status: response.status,
      contentType: response.headers.get("content-type") ?? "",
      text,
      body: parseOrUndefined(text),
    };
  }

  /** A refused connection sent nothing, so trying again is safe for every method. */
  private async fetch(url: string, init: RequestInit): Promise<Response> {
    for (;;) {
      try {
        return await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
      } catch (error) {
        const reason = networkReason(error);
        if (reason === REFUSED && Date.now() < this.waitUntil) {
          await Bun.sleep(RETRY_MS);
          continue;
        }
        const waited = reason === REFUSED && this.waitSeconds > 0;
        throw new Failure(
          `cannot reach the management API at ${this.url} ` +
            `(${reason}${waited ? ` for ${this.waitSeconds} s` : ""}); ` +
            "is mantrid running? set --url or MANTRID_URL",
        );
      }
    }
  }
}

/** `--url`, else `MANTRID_URL`, else the default; only http(s) URLs make sense. */
export function resolveUrl(flag: string | undefined, env: Record<string, string | undefined>) {
  const [url, source] =
    flag !== undefined
      ? [flag, "--url"]
      : env.MANTRID_URL
        ? [env.MANTRID_URL, "MANTRID_URL"]
        : [DEFAULT_URL, "the default"];
  if (!isHttpUrl(url)) {
    const bare = !url.includes("://") && isHttpUrl(`http://${url}`);
    const hint = bare ? `did you mean http://${url}?` : `e.g. ${DEFAULT_URL}`;
    throw new UsageError(`${source} "${url}" is not an http:// or https:// URL; ${hint}`);
  }
  return url;
}

function isHttpUrl(text: string): boolean {
  try {
    const { protocol } = new URL(text);
    return protocol === "http:" || protocol === "https:";
  } catch {
    return false;
  }
}

/**
 * Whether an answer has the management API's shape: JSON always, an object
 * with an `error` line when it refuses. A traffic port's HTML page has not.
 */
export function isApiAnswer(answer: Answer): boolean {
  const body = answer.body;
  if (typeof body !== "object" || body === null) return false;
  if (answer.status >= 200 && answer.status <= 299) return true;
  return typeof (body as { error?: unknown }).error === "string";
}

/** Says that whatever answered at `url` is something else, and where the API usually is. */
export function notApiLine(url: string, answer: Answer): string {
  const type = answer.contentType.split(";", 1)[0]!.trim();
  const what =
    answer.body === undefined
      ? `${answer.status} with ${type || "a body"} that is not JSON`
      : `${answer.status} with JSON the API never sends`;
  return (
    `the server at ${url} is not a Mantrid management API (it answered ${what}); ` +
    `point --url or MANTRID_URL at the management address, by default ${DEFAULT_URL}`
  );
}

/** The server's own error line, with the field it names when the line does not. */
export function errorLine(answer: Answer): string {
  const body = answer.body as { error: string; issues?: { path?: unknown }[] };
  const path = body.issues?.[0]?.path;
  if (Array.isArray(path) && path.length > 0) {
    const where = pathText(path.map(String));
    if (!body.error.includes(where)) return `${body.error} (at ${where})`;
  }
  return body.error;
}

function networkReason(error: unknown): string {
  const { name, code, message } = (error ?? {}) as {
    name?: string;
    code?: string;
    message?: string;
  };
  if (name === "TimeoutError") return `no answer within ${TIMEOUT_MS / 1000} s`;
  if (code === "ECONNREFUSED" || code === "ConnectionRefused") return REFUSED;
  if (code === "ENOTFOUND") return "host not found";
  return code ?? message ?? String(error);
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
