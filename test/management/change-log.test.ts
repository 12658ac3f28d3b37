/** The server log names each rule change: what changed, and who (the client's address). */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createManagementApp } from "../../src/management/index.ts";
import { catchServerLog } from "../support/stderr.ts";
import { call, type Harness, startHarness } from "./harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const logged = catchServerLog();

/** The messages logged, without their time. */
const messages = () => logged.map((line) => line.replace(/^\S+ /, "").trimEnd());

test("a rule set, with its action", async () => {
  await call(h.url, "PUT", "/hostname/app.example.com/", ["empty", { code: 204 }, false]);
  await call(h.url, "PUT", "/hostname/wild.example.com/", ["static", { type: "test" }, true]);
  expect(messages()).toEqual([
    "info  rule set app.example.com: empty (by 127.0.0.1)",
    "info  rule set wild.example.com: static, with subdomains (by 127.0.0.1)",
  ]);
});

test("a rule deleted; deleting one that is not there changes nothing and logs nothing", async () => {
  await call(h.url, "PUT", "/hostname/gone.example.com/", ["empty", { code: 204 }, false]);
  logged.length = 0;
  expect((await call(h.url, "DELETE", "/hostname/gone.example.com/")).status).toBe(200);
  expect((await call(h.url, "DELETE", "/hostname/gone.example.com/")).status).toBe(404);
  expect(messages()).toEqual(["info  rule deleted gone.example.com (by 127.0.0.1)"]);
});

test("the whole rule set replaced, with its size", async () => {
  const rules = {
    "a.example.com": ["empty", { code: 204 }, false],
    "b.example.com": ["empty", { code: 204 }, false],
    "c.example.com": ["redirect", { redirect_to: "https://example.com" }, false],
  };
  expect((await call(h.url, "PUT", "/hostname/", rules)).status).toBe(200);
  expect(messages()).toEqual(["info  rules replaced: 3 rules (by 127.0.0.1)"]);
});

test("refused changes and reads log nothing", async () => {
  expect(
    (await call(h.url, "PUT", "/hostname/bad.example.com/", ["empty", {}, false])).status,
  ).toBe(400);
  expect((await call(h.url, "PUT", "/hostname/", { "x.com": ["nope", {}, false] })).status).toBe(
    400,
  );
  await call(h.url, "GET", "/hostname/");
  await call(h.url, "GET", "/stats/");
  expect(messages()).toEqual([]);
});

test("an app called without a server: the client is unknown", async () => {
  const app = createManagementApp({ registry: h.registry, stats: h.stats });
  const response = await app.request("/hostname/direct.example.com/", {
    method: "PUT",
    body: JSON.stringify(["empty", { code: 204 }, false]),
  });
  expect(response.status).toBe(200);
  expect(messages()).toEqual(["info  rule set direct.example.com: empty (by unknown)"]);
});
