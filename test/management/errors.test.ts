import { afterEach, describe, expect, spyOn, test } from "bun:test";
import { rm } from "node:fs/promises";
import { BUN_HEAD_LIMIT } from "../../src/management/server.ts";
import { parseRule, type Rule } from "../../src/rules/schema.ts";
import { LogFile } from "../../src/store/log-file.ts";
import { stateAfterRestart } from "../support/saved-state.ts";
import { connect, parseResponses } from "../support/wire.ts";
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
    const { error, issues } = reply.body as { error: string; issues: unknown };
    expect(error).toMatch(/^invalid JSON: /);
    expect(issues).toEqual([{ path: [], message: error.slice("invalid JSON: ".length) }]);
    expect((await call(h.url, "PUT", "/hostname/", "")).body).toEqual({
      error: "invalid JSON: the request has no body",
      issues: [{ path: [], message: "the request has no body" }],
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

describe("an oversize request head is JSON too, before any handler", () => {
  /** One request on a raw socket (fetch would refuse to send some of these), its answer parsed. */
  async function raw(port: number, head: string) {
    const connection = await connect(port);
    connection.send(head);
    const [response] = parseResponses(await connection.closed);
    return {
      status: response!.status,
      type: response!.headers["content-type"] ?? "",
      body: response!.body.length > 0 ? JSON.parse(response!.body.toString()) : null,
    };
  }

  test("a 20 KB path is 414 naming the limit, even before the token is checked", async () => {
    h = await startHarness({ token: "secret" });
    const path = `/hostname/${"a".repeat(20_000)}.com/`;
    const reply = await raw(h.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    const message = "the request line is longer than 8192 bytes";
    expect(reply).toEqual({
      status: 414,
      type: expect.stringMatching(/^application\/json/),
      body: { error: message, issues: [{ path: [], message }] },
    });
  });

  test("20 KB of headers is 431, naming the limit", async () => {
    h = await startHarness();
    const big = `X-Big: ${"b".repeat(20_000)}\r\n`;
    const reply = await raw(h.port, `GET / HTTP/1.1\r\nHost: x\r\n${big}Connection: close\r\n\r\n`);
    const message = "the request head is larger than 16384 bytes";
    expect(reply).toEqual({
      status: 431,
      type: expect.stringMatching(/^application\/json/),
      body: { error: message, issues: [{ path: [], message }] },
    });
  });

  test("within the limits, a long path is the API's to judge", async () => {
    h = await startHarness();
    const host = `${"a".repeat(60)}.`.repeat(100);
    const reply = await call(h.url, "GET", `/hostname/${host}com/`);
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ issues: [{ path: ["hostname"] }] });
  });

  test(`beyond ${BUN_HEAD_LIMIT} bytes Bun answers 431 itself`, async () => {
    h = await startHarness();
    const path = `/${"a".repeat(BUN_HEAD_LIMIT)}`;
    const reply = await raw(h.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(reply.status).toBe(431);
  });
});

describe("a failed state-file write", () => {
  test("is 500 JSON, and the old rules stand in memory and on disk", async () => {
    // A state file from before start-up has no log yet: the next save rewrites it, in a folder that is gone.
    const stored = (parseRule(EMPTY) as { value: Rule }).value;
    h = await startHarness({ initial: new Map([["a.com", stored]]) });
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
    expect((await stateAfterRestart(h.stateFile)).fresh).toBe(true);
  });

  test("an append to the change log that fails is 500 too, and loads as if never asked", async () => {
    h = await startHarness();
    await call(h.url, "PUT", "/hostname/a.com/", EMPTY);
    const diskFull = Object.assign(new Error("ENOSPC: no space left on device, write"), {
      code: "ENOSPC",
    });
    const append = spyOn(LogFile.prototype, "append").mockRejectedValue(diskFull);
    try {
      const put = await call(h.url, "PUT", "/hostname/b.com/", EMPTY);
      expect(put).toMatchObject({
        status: 500,
        body: {
          error:
            "could not save the state file, nothing changed: ENOSPC: no space left on device, write",
        },
      });
      expect((await call(h.url, "DELETE", "/hostname/a.com/")).status).toBe(500);
    } finally {
      append.mockRestore();
    }
    expect((await call(h.url, "GET", "/hostname/")).body).toEqual({ "a.com": EMPTY });
    expect([...(await stateAfterRestart(h.stateFile)).hosts.keys()]).toEqual(["a.com"]);
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
