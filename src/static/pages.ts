/**
 * Pages for the `static` action and the built-in answers (`unknown`, `no-hosts`,
 * `timeout`). A page named `type` comes from `<static_dir>/<type>.http` when that
 * file exists, else from the built-in set, as in the original Mantrid. Each page's
 * responses are serialised once and reused, so serving one copies nothing.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseHttpFile, simpleResponse } from "../http/response-writer.ts";
import { log } from "../log.ts";
import { BUILTIN_PAGES } from "./builtin.ts";

export class Page {
  private readonly cache = new Map<number, Buffer>();

  constructor(
    readonly status: number,
    private readonly headers: [string, string][],
    private readonly body: string,
  ) {}

  /** The whole response; `status` overrides the page's own (the timeout page is 502 or 504). */
  response(keepAlive: boolean, head: boolean, status = this.status): Buffer {
    const key = status * 4 + (keepAlive ? 2 : 0) + (head ? 1 : 0);
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const bytes = simpleResponse(status, this.headers, this.body, keepAlive, head);
    this.cache.set(key, bytes);
    return bytes;
  }
}

export class PageStore {
  private readonly pages = new Map<string, Page | null>();

  constructor(private readonly staticDir: string) {}

  /** The page of a type, or null when neither static_dir nor the built-ins have it. */
  get(type: string): Page | null {
    let page = this.pages.get(type);
    if (page === undefined) {
      page = this.load(type);
      this.pages.set(type, page);
    }
    return page;
  }

  /** A built-in page that must exist. */
  builtin(type: "unknown" | "no-hosts" | "timeout" | "test"): Page {
    return this.get(type)!;
  }

  /** Forgets loaded pages so edited files are read again (a rule set re-reads its page). */
  forget(type: string): void {
    this.pages.delete(type);
  }

  private load(type: string): Page | null {
    const path = join(this.staticDir, `${type}.http`);
    let text: string | undefined;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
        log.warn(`cannot read static page ${path}: ${(error as Error).message}`);
      }
    }
    const source = text ?? BUILTIN_PAGES[type];
    if (source === undefined) return null;
    try {
      const parsed = parseHttpFile(source);
      return new Page(parsed.status, parsed.headers, parsed.body);
    } catch (error) {
      log.warn(
        `static page ${text !== undefined ? path : type} is malformed: ${(error as Error).message}`,
      );
      return text !== undefined && BUILTIN_PAGES[type] !== undefined
        ? this.builtinPage(type)
        : null;
    }
  }

  private builtinPage(type: string): Page {
    const parsed = parseHttpFile(BUILTIN_PAGES[type]!);
    return new Page(parsed.status, parsed.headers, parsed.body);
  }
}
