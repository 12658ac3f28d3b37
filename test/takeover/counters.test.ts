/** What a server counted after its last save, passed on and added once. */
import { expect, test } from "bun:test";
import { StatsBook } from "../../src/stats/host-stats.ts";
import { carryInto, counterGrowth, requestsIn } from "../../src/takeover/counters.ts";

const record = (completed: number, sent: number, received: number, open = 0) => ({
  open_requests: open,
  completed_requests: completed,
  bytes_sent: sent,
  bytes_received: received,
});

test("growth is what rose since the save, host by host; hosts that did not grow are left out", () => {
  const saved = { "a.test": record(10, 100, 50), "b.test": record(1, 1, 1) };
  const now = {
    "a.test": record(13, 160, 80, 2),
    "b.test": record(1, 1, 1),
    "c.test": record(2, 20, 10),
  };
  const growth = counterGrowth(now, saved);
  expect(growth).toEqual({
    "a.test": { completed_requests: 3, bytes_sent: 60, bytes_received: 30 },
    "c.test": { completed_requests: 2, bytes_sent: 20, bytes_received: 10 },
  });
  expect(requestsIn(growth)).toBe(5);
});

test("carried growth adds to the counters and leaves open requests alone", () => {
  const book = new StatsBook();
  book.set("a.test", record(5, 50, 25, 1));
  carryInto(book, {
    "a.test": { completed_requests: 3, bytes_sent: 60, bytes_received: 30 },
    "new.test": { completed_requests: 1, bytes_sent: 2, bytes_received: 3 },
  });
  expect(book.toJSON()).toEqual({ "a.test": record(8, 110, 55, 1), "new.test": record(1, 2, 3) });
});
