/**
 * Pages for the `static` action and the built-in answers (`unknown`, `no-hosts`,
 * `timeout`, `bad-gateway`). A page named `type` comes from `<static_dir>/<type>.http`
 * when that file exists, else from the built-in set, as in the original Mantrid.
 * Each page's responses are serialised once and reused, so serving one copies nothing.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseHttpFile, simpleResponse } from "../http/response-writer.ts";
import { log } from "../log.ts";
import { BUILTIN_PAGES } from "./builtin.ts";

export class Page {
  private readonly cache = new Map<number, Buffer>();
  /** Answers that carry another status with their own text (the timeout page's 502). */
  private readonly variants = new Map<number, Page>();

  constructor(
    readonly status: number,
    private readonly headers: [string, string][],
    private readonly body: string,
  ) {}

  /**
   * The whole response; `status` overrides the page's own (the timeout page is
   * 502 or 504), and a variant for that status answers in its place.
   */
  response(keepAlive: boolean, head: boolean, status = this.status): Buffer {
    const key = status * 4 + (keepAlive ? 2 : 0) + (head ? 1 : 0);
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const variant = status !== this.status ? this.variants.get(status) : undefined;
    const bytes =
      variant !== undefined
        ? variant.response(keepAlive, head, status)
        : simpleResponse(status, this.headers, this.body, keepAlive, head);
    this.cache.set(key, bytes);
    return bytes;
  }

  /** Makes `page` answer whenever this page is asked for `status`. */
  withVariant(status: number, page: Page): this {
    this.variants.set(status, page);
    return this;
  }
}

/** What reading a page found. */
interface Loaded {
  /** The page to serve: the file's, else the built-in one of that name, else null. */
  page: Page | null;
  /** Whether `page` came from static_dir. */
  fromFile: boolean;
  /** What is wrong with the page as asked for (a missing, unreadable or malformed file). */
  problem: string | null;
}

/** The file a page of `type` is read from. */
export function pagePath(staticDir: string, type: string): string {
  return join(staticDir, `${type}.http`);
}

function readPage(staticDir: string, type: string): Loaded {
  const path = pagePath(staticDir, type);
  const builtin = BUILTIN_PAGES[type];
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && builtin !== undefined) {
      return { page: parsePage(builtin), fromFile: false, problem: null };
    }
    const problem =
      code === "ENOENT"
        ? `no page "${type}": ${path} does not exist and there is no built-in page of that name`
        : `cannot read ${path}: ${(error as Error).message}`;
    return { page: builtin !== undefined ? parsePage(builtin) : null, fromFile: false, problem };
  }
  try {
    return { page: parsePage(text), fromFile: true, problem: null };
  } catch (error) {
    const problem = `${path} is malformed: ${(error as Error).message}`;
    return { page: builtin !== undefined ? parsePage(builtin) : null, fromFile: false, problem };
  }
}

function parsePage(source: string): Page {
  const parsed = parseHttpFile(source);
  return new Page(parsed.status, parsed.headers, parsed.body);
}

/**
 * Why a page of `type` cannot be served as asked, or null when it can: the file
 * is missing with no built-in page of that name, unreadable, or malformed.
 * Read afresh on every call, as a rule being set re-reads its page.
 */
export function pageProblem(staticDir: string, type: string): string | null {
  return readPage(staticDir, type).problem;
}

export class PageStore {
  private readonly pages = new Map<string, Page | null>();
  /** The problem last logged for each page, so a page that keeps failing is logged once. */
  private readonly reported = new Map<string, string>();

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
  builtin(type: "unknown" | "no-hosts" | "timeout" | "test" | "bad-gateway"): Page {
    return this.get(type)!;
  }

  /** Forgets loaded pages so edited files are read again (a rule set re-reads its page). */
  forget(type: string): void {
    this.pages.delete(type);
  }

  /** The file a page of `type` is read from. */
  path(type: string): string {
    return pagePath(this.staticDir, type);
  }

  private load(type: string): Page | null {
    const { page, fromFile, problem } = readPage(this.staticDir, type);
    this.report(type, problem, page !== null);
    // A refused connection gets the bad-gateway page; a user's own timeout page
    // serves both, unless static_dir also holds a bad-gateway page.
    if (type === "timeout" && page !== null) {
      const gateway = readPage(this.staticDir, "bad-gateway");
      this.report("bad-gateway", gateway.problem, gateway.page !== null);
      if (gateway.page !== null && (gateway.fromFile || !fromFile)) {
        page.withVariant(502, gateway.page);
      }
    }
    return page;
  }

  private report(type: string, problem: string | null, fallback: boolean): void {
    if (problem === null) {
      this.reported.delete(type);
      return;
    }
    if (this.reported.get(type) === problem) return;
    this.reported.set(type, problem);
    const outcome = fallback
      ? `the built-in page "${type}" is served instead`
      : `requests for page "${type}" are answered 500`;
    log.warn(`${problem}; ${outcome}`);
  }
}
