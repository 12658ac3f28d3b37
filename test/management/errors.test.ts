import { afterEach, describe, expect, spyOn, test } from "bun:test";
import { rm } from "node:fs/promises";
import { loadState } from "../../src/store/state-file.ts";
import { call, type Harness, startHarness } from "./harness.ts";

let h: Harness;
afterEach(() => h.close());

const EMPTY = ["empty", { code: 204 }, true];
const HOSTNAME_RULE =
  "a hostname is dot-separated labels of letters, digits and '-', optionally prefixed by http:// or https://";

describe("bad input is 400 with the fields named, and changes nothing", () => {
  test("a rule with a bad option", async () => {
    h = await startHarness();
    const reply = await call(h.url, "PUT", "/hostname/a.com/", ["empty", { code: "abc" }, true]);
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({
      error: "invalid rule at options/code: code must be a number",
      issues: [{ path: ["options", "code"], message: "code must be a number" }],
    });
    expect(h.registry.size).toBe(0);
  });

  test("a rule that is not a triple", async () => {
    h = await startHarness();
    const reply = await call(h.url, "PUT", "/hostname/a.com/", { action: "empty" });
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({
      error: "invalid rule: a rule is [action, options, match_subdomains]",
      issues: [{ path: [], message: "a rule is [action, options, match_subdomains]" }],
    });
  });

  test("an invalid hostname in the path", async () => {
    h = await startHarness();
    for (const method of ["GET", "PUT", "DELETE"]) {
      const body = method === "PUT" ? EMPTY : undefined;
      const reply = await call(h.url, method, "/hostname/bad_host!/", body);
      expect(reply.status).toBe(400);
      expect(reply.body).toEqual({
        error: `invalid hostname "bad_host!": ${HOSTNAME_RULE}`,
        issues: [{ path: ["hostname"], message: HOSTNAME_RULE }],
      });
    }
    expect((await call(h.url, "GET", "/stats/bad_host!/")).status).toBe(400);
  });

  test("a broken percent-encoding in the path", async () => {
    h = await startHarness();
    const reply = await call(h.url, "GET", "/hostname/a%E0%A4%A/");
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ issues: [{ path: ["hostname"] }] });
  });

  test("invalid JSON", async () => {
    h = await startHarness();
    const reply = await call(h.url, "PUT", "/hostname/a.com/", '["empty", {');
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({ error: expect.stringMatching(/^invalid JSON: /) });
    expect((await call(h.url, "PUT", "/hostname/", "")).body).toEqual({
      error: "invalid JSON: the request has no body",
    });
    expect(h.registry.size).toBe(0);
  });
});

test("an unknown path is 404 JSON", async () => {
  h = await startHarness();
  for (const path of ["/nope", "/hostnames/", "/stats-x/"]) {
    const reply = await call(h.url, "GET", path);
    expect(reply.status).toBe(404);
    expect(reply.headers.get("content-type")).toStartWith("application/json");
    expect(reply.body).toEqual({ error: expect.stringContaining(path) });
  }
});

describe("a wrong method is 405 with Allow", () => {
  const cases: [string, string, string][] = [
    ["POST", "/", "GET, HEAD"],
    ["DELETE", "/hostname/", "GET, HEAD, PUT"],
    ["POST", "/hostname", "GET, HEAD, PUT"],
    ["POST", "/hostname/a.com/", "GET, HEAD, PUT, DELETE"],
    ["PATCH", "/hostname/a.com", "GET, HEAD, PUT, DELETE"],
    ["PUT", "/stats/", "GET, HEAD"],
    ["DELETE", "/stats/a.com", "GET, HEAD"],
  ];
  for (const [method, path, allow] of cases) {
    test(`${method} ${path}`, async () => {
      h = await startHarness();
      const reply = await call(h.url, method, path);
      expect(reply.status).toBe(405);
      expect(reply.headers.get("allow")).toBe(allow);
      expect(reply.body).toEqual({ error: `${method} is not allowed here; use ${allow}` });
    });
  }
});

test("HEAD answers like GET, without a body", async () => {
  h = await startHarness();
  const response = await fetch(`${h.url}/hostname/`, { method: "HEAD" });
  expect(response.status).toBe(200);
  expect(await response.text()).toBe("");
});

describe("body size limit", () => {
  test("a body over the limit is 413 and changes nothing", async () => {
    h = await startHarness({ bodyLimit: 64 });
    const big = {
      "a.com": ["redirect", { redirect_to: `https://b.com/${"x".repeat(100)}` }, false],
    };
    const reply = await call(h.url, "PUT", "/hostname/", big);
    expect(reply.status).toBe(413);
    expect(reply.body).toEqual({ error: "the request body is larger than 64 bytes" });
    expect(h.registry.size).toBe(0);
  });

  test("a streamed body over the limit is 413 too", async () => {
    h = await startHarness({ bodyLimit: 64 });
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(JSON.stringify({ "a.com": EMPTY })));
        controller.enqueue(new TextEncoder().encode(" ".repeat(100)));
        controller.close();
      },
    });
    const response = await fetch(`${h.url}/hostname/`, { method: "PUT", body: stream });
    expect(response.status).toBe(413);
    expect(h.registry.size).toBe(0);
  });

  test("a body within the limit is accepted", async () => {
    h = await startHarness({ bodyLimit: 64 });
    expect((await call(h.url, "PUT", "/hostname/a.com/", EMPTY)).status).toBe(200);
  });
});

describe("a failed state-file write", () => {
  test("is 500 JSON, and the old rules stand in memory and on disk", async () => {
    h = await startHarness();
    await call(h.url, "PUT", "/hostname/a.com/", EMPTY);
    await rm(h.stateDir, { recursive: true });

    const put = await call(h.url, "PUT", "/hostname/b.com/", EMPTY);
    expect(put.status).toBe(500);
    expect(put.body).toEqual({
      error: expect.stringMatching(/^could not save the state file, nothing changed: /),
    });
    const replace = await call(h.url, "PUT", "/hostname/", { "c.com": EMPTY });
    expect(replace.status).toBe(500);
    const remove = await call(h.url, "DELETE", "/hostname/a.com/");
    expect(remove.status).toBe(500);

    expect((await call(h.url, "GET", "/hostname/")).body).toEqual({ "a.com": EMPTY });
    expect((await call(h.url, "GET", "/hostname/b.com/")).status).toBe(404);
    expect((await loadState(h.stateFile)).fresh).toBe(true);
  });
});

test("an unexpected exception is 500 JSON without details", async () => {
  h = await startHarness();
  h.registry.all = () => {
    throw new Error("secret detail");
  };
  const logged = spyOn(process.stderr, "write").mockImplementation(() => true);
  const reply = await call(h.url, "GET", "/hostname/");
  const lines = logged.mock.calls.map((args) => String(args[0]));
  logged.mockRestore();
  expect(reply.status).toBe(500);
  expect(reply.body).toEqual({ error: "internal error" });
  // The operator sees the cause in the log; the client does not.
  expect(lines.join("")).toContain("secret detail");
});
