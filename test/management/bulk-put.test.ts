// `PUT /hostname/` reads the rule set as it arrives: large, cut anywhere, cut short or refused.
import { afterEach, describe, expect, test } from "bun:test";
import { parseRuleSet, type RuleTriple, toTriples } from "../../src/rules/schema.ts";
import { stateAfterRestart } from "../support/saved-state.ts";
import { catchServerLog } from "../support/stderr.ts";
import { waitFor } from "../support/wait.ts";
import { connect, parseResponses } from "../support/wire.ts";
import { call, type Harness, startHarness } from "./harness.ts";

let h: Harness;
afterEach(() => h.close());
const logged = catchServerLog();

const EMPTY = ["empty", { code: 204 }, true];
const PROXY = ["proxy", { backends: ["127.0.0.1:9000"] }, false];
const PROXY_STORED = ["proxy", { backends: [["127.0.0.1", 9000]], attempts: 1, delay: 1 }, false];

/** `count` hostnames, on two rules in turn, as JSON text. */
function manyRules(count: number): Record<string, unknown> {
  const rules: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) rules[`h${i}.bulk.test`] = i % 2 === 0 ? PROXY : EMPTY;
  return rules;
}

/** A PUT of `body` on a raw socket, written `size` bytes at a time; the status. */
async function putInPieces(port: number, body: string, size: number): Promise<number> {
  const connection = await connect(port);
  const bytes = Buffer.from(body);
  connection.send(
    `PUT /hostname/ HTTP/1.1\r\nHost: x\r\nContent-Length: ${bytes.length}\r\nConnection: close\r\n\r\n`,
  );
  for (let at = 0; at < bytes.length; at += size) connection.send(bytes.subarray(at, at + size));
  const [response] = parseResponses(await connection.closed);
  return response!.status;
}

describe("a whole rule set read as it arrives", () => {
  test("50,000 rules in one PUT: every one readable, and loaded again from the state file", async () => {
    h = await startHarness();
    const rules = {
      ...manyRules(50_000),
      "Upper.Case.test.": EMPTY,
      "http://plain.test": PROXY,
    };
    expect((await call(h.url, "PUT", "/hostname/", rules)).status).toBe(200);
    const answered = (await call(h.url, "GET", "/hostname/")).body as Record<string, unknown>;
    expect(Object.keys(answered).length).toBe(50_002);
    expect(answered["h49998.bulk.test"]).toEqual(PROXY_STORED);
    expect(answered["h49999.bulk.test"]).toEqual(EMPTY);
    expect(answered["upper.case.test"]).toEqual(EMPTY);
    expect(answered["http://plain.test"]).toEqual(PROXY_STORED);
    const loaded = (await stateAfterRestart(h.stateFile)).hosts;
    expect(loaded.size).toBe(50_002);
    expect(toTriples(loaded)).toEqual(answered as Record<string, RuleTriple>);
  });

  test("written a few bytes at a time, the set is read the same", async () => {
    h = await startHarness();
    const rules = manyRules(3_000);
    expect(await putInPieces(h.port, JSON.stringify(rules, null, 1), 777)).toBe(200);
    expect(h.registry.size).toBe(3_000);
    expect(h.registry.get("h2999.bulk.test")).toEqual(EMPTY as never);
  });

  test("a body cut short by the client changes nothing, and the server goes on", async () => {
    h = await startHarness();
    await call(h.url, "PUT", "/hostname/a.com/", EMPTY);
    const body = Buffer.from(JSON.stringify(manyRules(10_000)));
    const connection = await connect(h.port);
    connection.send(`PUT /hostname/ HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`);
    connection.send(body.subarray(0, body.length / 2));
    connection.destroy();
    await waitFor(() => logged.join("").includes("PUT /hostname/ failed"), "the PUT to fail");
    expect((await call(h.url, "GET", "/hostname/")).body).toEqual({ "a.com": EMPTY });
    expect((await call(h.url, "PUT", "/hostname/", { "b.com": EMPTY })).status).toBe(200);
    expect((await call(h.url, "GET", "/hostname/")).body).toEqual({ "b.com": EMPTY });
  });

  test("a key the fast path leaves alone is read the long way", async () => {
    h = await startHarness();
    const text = `{"a\\u002ecom": ${JSON.stringify(EMPTY)}}`;
    const reply = await call(h.url, "PUT", "/hostname/", text);
    expect(reply.status).toBe(200);
    expect((await call(h.url, "GET", "/hostname/")).body).toEqual({ "a.com": EMPTY });
  });
});

describe("a bad rule set is refused whole, in the words it always had", () => {
  test.each([
    ["cut short", '{"a.com": ["empty", {"code": 204}, tr'],
    ["with something after it", '{"a.com": ["empty", {}, true]} x'],
    ["garbage", "\u0001\u00ff not JSON"],
    ["a bad literal", '{"a.com": ["empty", {}, tru]}'],
  ])("JSON %s: JSON.parse's own message, at the body", async (_what, text) => {
    h = await startHarness();
    await call(h.url, "PUT", "/hostname/a.com/", EMPTY);
    let message = "";
    try {
      JSON.parse(text);
    } catch (error) {
      message = (error as Error).message;
    }
    const reply = await call(h.url, "PUT", "/hostname/", text);
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ issues: [{ path: [], message }] });
    expect(h.registry.size).toBe(1);
  });

  test("no body at all", async () => {
    h = await startHarness();
    const reply = await call(h.url, "PUT", "/hostname/", "");
    expect(reply.body).toMatchObject({
      issues: [{ path: [], message: "the request has no body" }],
    });
  });

  test("bad rules and names deep in a large set: every one named, by hostname", async () => {
    h = await startHarness();
    await call(h.url, "PUT", "/hostname/a.com/", EMPTY);
    const rules = manyRules(20_000);
    rules["h10000.bulk.test"] = ["empty", { code: 99 }, false];
    rules.bad_name = EMPTY;
    rules["h19999.bulk.test"] = ["nope", {}, false];
    const text = JSON.stringify(rules);
    const reply = await call(h.url, "PUT", "/hostname/", text);
    expect(reply.status).toBe(400);
    const expected = parseRuleSet(JSON.parse(text));
    expect(expected.ok).toBe(false);
    expect((reply.body as { issues: unknown[] }).issues).toEqual(
      expected.ok ? [] : expected.problems,
    );
    expect((reply.body as { issues: { path: string[] }[] }).issues.map((i) => i.path[0])).toEqual([
      "h10000.bulk.test",
      "h19999.bulk.test",
      "bad_name",
    ]);
    expect((await call(h.url, "GET", "/hostname/")).body).toEqual({ "a.com": EMPTY });
  });

  test("a body over the limit is 413 before it is read, with a length or streamed", async () => {
    h = await startHarness({ bodyLimit: 1024 * 1024 });
    const body = JSON.stringify(manyRules(40_000));
    expect(body.length).toBeGreaterThan(1024 * 1024);
    const sized = await call(h.url, "PUT", "/hostname/", body);
    expect(sized).toMatchObject({
      status: 413,
      body: { error: "the request body is larger than 1048576 bytes" },
    });
    const stream = new ReadableStream({
      start(controller) {
        const bytes = Buffer.from(body);
        for (let at = 0; at < bytes.length; at += 100_000) {
          controller.enqueue(bytes.subarray(at, at + 100_000));
        }
        controller.close();
      },
    });
    const streamed = await fetch(`${h.url}/hostname/`, { method: "PUT", body: stream });
    expect(streamed.status).toBe(413);
    await streamed.text();
    expect(h.registry.size).toBe(0);
  });
});
