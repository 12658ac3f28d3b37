/**
 * A `static` rule whose page cannot be served is refused when it is set (400,
 * nothing changed), against a registry whose table compiles nothing, as the
 * primary of `workers = N` has it. A stored one is kept at start-up, with a warning.
 */
import { afterAll, afterEach, beforeAll, describe, expect, spyOn, test } from "bun:test";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseRule, type Rule } from "../../src/rules/schema.ts";
import { client } from "../client/harness.ts";
import { stateAfterRestart } from "../support/saved-state.ts";
import { call, type Harness, startHarness } from "./harness.ts";

let root: string;
let staticDir: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "mantrid-static-check-"));
  staticDir = join(root, "static");
  await mkdir(staticDir);
  await writeFile(join(staticDir, "maintenance.http"), "HTTP/1.1 503 Down\n\nback soon\n");
  await writeFile(join(staticDir, "broken.http"), "not a status line\n\n");
});
afterAll(() => rm(root, { recursive: true, force: true }));

let h: Harness;
afterEach(() => h?.close());

const EMPTY = ["empty", { code: 204 }, false];
const page = (type: string) => ["static", { type }, false];

function rule(triple: unknown[]): Rule {
  const parsed = parseRule(triple);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.value;
}

describe("PUT /hostname/<host>/", () => {
  test("a page that does not exist: 400 naming the file, and nothing changed", async () => {
    h = await startHarness({ staticDir });
    expect((await call(h.url, "PUT", "/hostname/a.test/", EMPTY)).status).toBe(200);
    const stored = await stateAfterRestart(h.stateFile);

    const reply = await call(h.url, "PUT", "/hostname/a.test/", page("nosuchpage"));
    const message = `no page "nosuchpage": ${join(staticDir, "nosuchpage.http")} does not exist and there is no built-in page of that name`;
    expect(reply).toMatchObject({
      status: 400,
      body: {
        error: `invalid rule at options/type: ${message}`,
        issues: [{ path: ["options", "type"], message }],
      },
    });
    expect(h.registry.get("a.test")).toEqual(EMPTY as never);
    expect(await stateAfterRestart(h.stateFile)).toEqual(stored);
  });

  test("a malformed page file: 400 naming the file", async () => {
    h = await startHarness({ staticDir });
    const reply = await call(h.url, "PUT", "/hostname/b.test/", page("broken"));
    expect(reply.status).toBe(400);
    const { issues } = reply.body as { issues: { path: string[]; message: string }[] };
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toEqual(["options", "type"]);
    expect(issues[0]!.message).toStartWith(`${join(staticDir, "broken.http")} is malformed: `);
    expect(h.registry.has("b.test")).toBe(false);
  });

  test("a page from static_dir and every built-in page are accepted", async () => {
    h = await startHarness({ staticDir });
    for (const type of ["maintenance", "test", "no-hosts", "unknown", "timeout", "bad-gateway"]) {
      expect((await call(h.url, "PUT", `/hostname/${type}.test/`, page(type))).status).toBe(200);
    }
    expect(h.registry.size).toBe(6);
  });
});

describe("PUT /hostname/", () => {
  test("a set with rules that cannot work: 400 naming each hostname, the rules as they were", async () => {
    h = await startHarness({ staticDir });
    expect((await call(h.url, "PUT", "/hostname/keep.test/", EMPTY)).status).toBe(200);
    const stored = await stateAfterRestart(h.stateFile);

    const reply = await call(h.url, "PUT", "/hostname/", {
      "fine.test": page("maintenance"),
      "one.test": page("nosuchpage"),
      "two.test": page("nosuchpage"),
      "empty.test": EMPTY,
    });
    expect(reply.status).toBe(400);
    const body = reply.body as { error: string; issues: { path: string[]; message: string }[] };
    expect(body.error).toStartWith("invalid rule set at one.test/options/type: no page ");
    expect(body.error).toEndWith("(and 1 more)");
    expect(body.issues.map((issue) => issue.path)).toEqual([
      ["one.test", "options", "type"],
      ["two.test", "options", "type"],
    ]);
    for (const issue of body.issues) {
      expect(issue.message).toContain(join(staticDir, "nosuchpage.http"));
    }
    expect(h.registry.all()).toEqual({ "keep.test": EMPTY } as never);
    expect(await stateAfterRestart(h.stateFile)).toEqual(stored);
  });
});

describe("the client", () => {
  test("set: the server's refusal, exit 1, nothing stored", async () => {
    h = await startHarness({ staticDir });
    const outcome = await client(["--url", h.url, "set", "a.test", "static", "false", "type=gone"]);
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain(join(staticDir, "gone.http"));
    expect(h.registry.size).toBe(0);
  });

  test("load: the whole set refused, exit 1", async () => {
    h = await startHarness({ staticDir });
    const rules = JSON.stringify({ "a.test": EMPTY, "b.test": page("gone") });
    const outcome = await client(["--url", h.url, "load", "-"], { stdin: rules });
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain("b.test/options/type");
    expect(h.registry.size).toBe(0);
  });
});

describe("stored rules at start-up", () => {
  test("a rule whose page has gone is kept, with one warning for all its hostnames", async () => {
    const gone = rule(page("vanished"));
    const initial = new Map([
      ["a.test", gone],
      ["b.test", gone],
      ["c.test", rule(EMPTY)],
    ]);
    const lines: string[] = [];
    const stderr = spyOn(process.stderr, "write").mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      h = await startHarness({ staticDir, initial });
    } finally {
      stderr.mockRestore();
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      `the stored rule for a.test (and 1 more) cannot work: no page "vanished": ${join(staticDir, "vanished.http")}`,
    );
    expect(h.registry.size).toBe(3);
    expect((await call(h.url, "GET", "/hostname/b.test/")).body).toEqual(page("vanished"));
  });
});
