import { afterEach, beforeEach, expect, test } from "bun:test";
import { call, type Harness, startHarness } from "./harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ initial: new Map() });
});
afterEach(() => h.close());

const ZERO = { open_requests: 0, completed_requests: 0, bytes_sent: 0, bytes_received: 0 };

test("GET /stats/ and /stats list every host's counters", async () => {
  await call(h.url, "PUT", "/hostname/quiet.com/", ["spin", {}, false]);
  const busy = h.stats.of("busy.com");
  busy.open_requests = 1;
  busy.completed_requests = 7;
  busy.bytes_sent = 1000;
  busy.bytes_received = 200;
  const expected = {
    "quiet.com": ZERO,
    "busy.com": { open_requests: 1, completed_requests: 7, bytes_sent: 1000, bytes_received: 200 },
  };
  for (const path of ["/stats/", "/stats"]) {
    expect(await call(h.url, "GET", path)).toMatchObject({ status: 200, body: expected });
  }
});

test("GET /stats/<host>/ gives one record, with or without the slash", async () => {
  h.stats.of("busy.com").completed_requests = 3;
  for (const path of ["/stats/busy.com/", "/stats/BUSY.com.", "/stats/busy.com"]) {
    expect(await call(h.url, "GET", path)).toMatchObject({
      status: 200,
      body: { ...ZERO, completed_requests: 3 },
    });
  }
});

test("a rule with no traffic yet has zeros; an unknown host is 404", async () => {
  await call(h.url, "PUT", "/hostname/http://ep.io/", ["spin", {}, false]);
  expect((await call(h.url, "GET", "/stats/http://ep.io/")).body).toEqual(ZERO);
  expect((await call(h.url, "GET", "/stats/http%3A%2F%2Fep.io")).body).toEqual(ZERO);
  expect(await call(h.url, "GET", "/stats/nobody.com/")).toMatchObject({
    status: 404,
    body: { error: "no rule and no stats for nobody.com" },
  });
});
