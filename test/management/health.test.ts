/** `GET /health`: the rule store's state, answered without the management token. */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { call, type Harness, startHarness } from "./harness.ts";

const TOKEN = "s3cret-token";
let h: Harness;
beforeEach(async () => {
  h = await startHarness({ token: TOKEN });
});
afterEach(() => h.close());

test("the file store is always ok; no token is needed", async () => {
  for (const path of ["/health", "/health/"]) {
    const reply = await call(h.url, "GET", path);
    expect(reply).toMatchObject({ status: 200, body: { store: "file", state: "ok" } });
  }
});

test("only GET: other methods are 405, and nothing else is let through without the token", async () => {
  const put = await call(h.url, "PUT", "/health", { state: "ok" });
  expect(put.status).toBe(405);
  expect(put.headers.get("allow")).toBe("GET, HEAD");
  for (const path of ["/health/x", "/healthz", "/HEALTH", "/hostname/"]) {
    expect((await call(h.url, "GET", path)).status).toBe(401);
  }
});
