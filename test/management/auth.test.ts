import { afterEach, beforeEach, expect, test } from "bun:test";
import { call, type Harness, startHarness } from "./harness.ts";

const TOKEN = "s3cret-token";
let h: Harness;
beforeEach(async () => {
  h = await startHarness({ token: TOKEN });
});
afterEach(() => h.close());

const PATHS = ["/", "/hostname/", "/hostname/a.com/", "/stats/", "/stats/a.com", "/nope"];

test("without a token every path is 401 with a Bearer challenge", async () => {
  for (const path of PATHS) {
    const reply = await call(h.url, "GET", path);
    expect(reply.status).toBe(401);
    expect(reply.headers.get("www-authenticate")).toBe("Bearer");
    expect(reply.body).toEqual({
      error: "a token is required: send Authorization: Bearer <token>",
    });
  }
});

test("a wrong token is 401 and changes nothing", async () => {
  for (const header of [`Bearer ${TOKEN}x`, "Bearer s3cret", `Basic ${TOKEN}`, TOKEN, "Bearer "]) {
    const reply = await call(h.url, "PUT", "/hostname/a.com/", ["spin", {}, false], {
      authorization: header,
    });
    expect(reply.status).toBe(401);
    expect(reply.body).toEqual({ error: "invalid token" });
  }
  expect(h.registry.size).toBe(0);
});

test("the right token is let through", async () => {
  const auth = { authorization: `Bearer ${TOKEN}` };
  const put = await call(h.url, "PUT", "/hostname/a.com/", ["spin", {}, false], auth);
  expect(put).toMatchObject({ status: 200, body: { ok: true } });
  expect((await call(h.url, "GET", "/hostname/a.com/", undefined, auth)).status).toBe(200);
  // The scheme is case-insensitive, as HTTP says.
  expect(
    (await call(h.url, "GET", "/", undefined, { authorization: `bearer ${TOKEN}` })).status,
  ).toBe(200);
  expect((await call(h.url, "GET", "/nope", undefined, auth)).status).toBe(404);
});
