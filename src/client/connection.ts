/** Talking to the management API: where it is, the token, and what its answers mean. */
import { pathText } from "../management/summary.ts";
import { Failure, UsageError } from "./errors.ts";

export const DEFAULT_URL = "http://127.0.0.1:8042";
/** Replacing a whole rule set is written to disk before the answer; allow for a slow disk. */
const TIMEOUT_MS = 30_000;

export interface Answer {
  status: number;
  /** The body as sent, for `--json`. */
  text: string;
  /** The body parsed, or undefined when it was not JSON. */
  body: unknown;
}

export class Connection {
  private readonly base: string;

  constructor(
    readonly url: string,
    private readonly token: string | undefined,
  ) {
    // A base URL may carry a path (behind a reverse proxy); API paths go below it.
    this.base = url.replace(/\/+$/, "");
  }

  async request(method: string, path: string, body?: unknown): Promise<Answer> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(this.base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      throw new Failure(
        `cannot reach the management API at ${this.url} (${networkReason(error)}); ` +
          "is mantrid running? set --url or MANTRID_URL",
      );
    }
    const text = await response.text();
    return { status: response.status, text, body: parseOrUndefined(text) };
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

/** The server's own error line, with the field it names when the line does not. */
export function errorLine(answer: Answer): string {
  const body = answer.body as { error?: unknown; issues?: { path?: unknown }[] } | undefined;
  if (typeof body?.error !== "string") {
    return `the management API answered ${answer.status}${answer.text ? `: ${firstLine(answer.text)}` : ""}`;
  }
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
  if (code === "ECONNREFUSED" || code === "ConnectionRefused") return "connection refused";
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

function firstLine(text: string): string {
  return (text.split("\n", 1)[0] ?? "").slice(0, 200);
}
