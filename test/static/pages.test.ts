/** Pages from static_dir and the built-ins: what is a problem, the 502 and 504 texts, what is logged. */
import { afterEach, beforeEach, describe, expect, spyOn, test } from "bun:test";
import { mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PageStore, pageProblem } from "../../src/static/pages.ts";
import { parseResponses } from "../support/wire.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "mantrid-pages-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const text = (bytes: Buffer) => parseResponses(bytes)[0]!;

/** Runs `body` and returns the lines it logged on stderr. */
function logged(body: () => void): string[] {
  const lines: string[] = [];
  const stderr = spyOn(process.stderr, "write").mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    body();
  } finally {
    stderr.mockRestore();
  }
  return lines;
}

describe("pageProblem", () => {
  test("no file and no built-in page: names the file to add", () => {
    expect(pageProblem(dir, "nosuchpage")).toBe(
      `no page "nosuchpage": ${join(dir, "nosuchpage.http")} does not exist and there is no built-in page of that name`,
    );
  });

  test("a built-in page, or a file that parses: none", async () => {
    for (const type of ["test", "no-hosts", "unknown", "timeout", "bad-gateway"]) {
      expect(pageProblem(dir, type)).toBeNull();
    }
    await writeFile(join(dir, "own.http"), "HTTP/1.1 200 OK\n\nmine\n");
    expect(pageProblem(dir, "own")).toBeNull();
  });

  test("a malformed file is a problem even where a built-in page would stand in", async () => {
    await writeFile(join(dir, "test.http"), "garbage\n");
    expect(pageProblem(dir, "test")).toStartWith(`${join(dir, "test.http")} is malformed: `);
  });

  test("a static_dir that is not a folder: the file cannot be read", async () => {
    const file = join(dir, "file");
    await writeFile(file, "");
    expect(pageProblem(file, "own")).toStartWith(`cannot read ${join(file, "own.http")}: `);
  });
});

describe("the timeout page", () => {
  test("built in: 502 says the server could not be reached, 504 that it did not answer in time", () => {
    const page = new PageStore(dir).builtin("timeout");
    const refused = text(page.response(true, false, 502));
    expect(refused.status).toBe(502);
    expect(refused.body.toString()).toContain("could not be reached");
    expect(refused.body.toString()).not.toContain("in time");
    const timedOut = text(page.response(false, false, 504));
    expect(timedOut.status).toBe(504);
    expect(timedOut.headers.connection).toBe("close");
    expect(timedOut.body.toString()).toContain("did not answer in time");
    // HEAD: the length of the 502 body, without it.
    const head = page.response(true, true, 502).toString("latin1");
    expect(head).toEndWith("\r\n\r\n");
    expect(head).toContain(`Content-Length: ${refused.body.length}\r\n`);
  });

  test("a user's timeout.http answers both", async () => {
    await writeFile(join(dir, "timeout.http"), "HTTP/1.1 504 Late\n\nown words\n");
    const page = new PageStore(dir).builtin("timeout");
    expect(text(page.response(true, false, 502))).toMatchObject({ status: 502 });
    expect(text(page.response(true, false, 502)).body.toString()).toBe("own words\n");
    expect(text(page.response(true, false, 504)).body.toString()).toBe("own words\n");
  });

  test("a user's bad-gateway.http answers 502, beside either timeout page", async () => {
    await writeFile(join(dir, "bad-gateway.http"), "HTTP/1.1 502 Refused\n\nnobody home\n");
    const builtin = new PageStore(dir).builtin("timeout");
    expect(text(builtin.response(true, false, 502)).body.toString()).toBe("nobody home\n");
    expect(text(builtin.response(true, false, 504)).body.toString()).toContain("in time");
    await writeFile(join(dir, "timeout.http"), "HTTP/1.1 504 Late\n\nown words\n");
    const own = new PageStore(dir).builtin("timeout");
    expect(text(own.response(true, false, 502)).body.toString()).toBe("nobody home\n");
    expect(text(own.response(true, false, 504)).body.toString()).toBe("own words\n");
  });
});

describe("what a PageStore logs", () => {
  test("a page that fails to load is logged once, however often it is read again", async () => {
    const pages = new PageStore(dir);
    const path = join(dir, "promo.http");
    await writeFile(path, "HTTP/1.1 200 OK\n\nsale\n");
    expect(logged(() => expect(pages.get("promo")).not.toBeNull())).toEqual([]);

    await writeFile(path, "HTTP/9 what\n\n");
    const malformed = logged(() => {
      for (let i = 0; i < 3; i++) {
        pages.forget("promo");
        expect(pages.get("promo")).toBeNull();
      }
    });
    expect(malformed).toHaveLength(1);
    expect(malformed[0]).toContain(`${path} is malformed: `);
    expect(malformed[0]).toContain('requests for page "promo" are answered 500');

    await unlink(path);
    const missing = logged(() => {
      for (let i = 0; i < 3; i++) {
        pages.forget("promo");
        expect(pages.get("promo")).toBeNull();
      }
    });
    expect(missing).toHaveLength(1);
    expect(missing[0]).toContain(`no page "promo": ${path} does not exist`);

    // Fixed, then broken again: logged again.
    await writeFile(path, "HTTP/1.1 200 OK\n\nsale\n");
    pages.forget("promo");
    expect(logged(() => expect(pages.get("promo")).not.toBeNull())).toEqual([]);
    await unlink(path);
    pages.forget("promo");
    expect(logged(() => pages.get("promo"))).toHaveLength(1);
  });

  test("a malformed file shadowing a built-in page: the built-in one, logged", async () => {
    await writeFile(join(dir, "unknown.http"), "nonsense\n");
    const pages = new PageStore(dir);
    let status = 0;
    const lines = logged(() => {
      status = pages.builtin("unknown").status;
    });
    expect(status).toBe(503);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('the built-in page "unknown" is served instead');
  });
});
