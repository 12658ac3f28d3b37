/** While the state is in passage, the API refuses changes with a 503 and lets reads through. */
import { expect, test } from "bun:test";
import { Hono } from "hono";
import { refuseWritesWhileClosed, WriteGate } from "../../src/takeover/write-gate.ts";

function app(gate: WriteGate): Hono {
  const hono = new Hono();
  hono.use(refuseWritesWhileClosed(gate));
  hono.all("*", (c) => c.json({ ok: true }));
  return hono;
}

test("closed: every method but GET and HEAD gets a 503 saying why; open: all pass", async () => {
  const gate = new WriteGate();
  const api = app(gate);
  gate.close("a takeover is under way");
  for (const method of ["PUT", "DELETE", "POST", "PATCH"]) {
    const response = await api.request("/hostname/a.test/", { method });
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(await response.json()).toEqual({
      error: "a takeover is under way; nothing changed, send it again in a moment",
    });
  }
  expect((await api.request("/hostname/")).status).toBe(200);
  expect((await api.request("/hostname/", { method: "HEAD" })).status).toBe(200);
  gate.open();
  expect((await api.request("/hostname/a.test/", { method: "PUT" })).status).toBe(200);
});
