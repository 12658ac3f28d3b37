import { describe, expect, test } from "bun:test";
import { HostStats, StatsBook, type StatsRecord, sum } from "../../src/stats/host-stats.ts";

const record = (
  open_requests: number,
  completed_requests: number,
  bytes_sent: number,
  bytes_received: number,
): StatsRecord => ({ open_requests, completed_requests, bytes_sent, bytes_received });

const ZERO = record(0, 0, 0, 0);

describe("HostStats", () => {
  test("starts at zero and writes exactly the four counters", () => {
    const stats = new HostStats();
    expect(stats.toJSON()).toEqual(ZERO);
    stats.open_requests = 1;
    stats.completed_requests = 2;
    stats.bytes_sent = 3;
    stats.bytes_received = 4;
    expect(JSON.parse(JSON.stringify(stats))).toEqual(record(1, 2, 3, 4));
  });
});

describe("StatsBook", () => {
  test("of() makes a host's counters once and hands out the same object after", () => {
    const book = new StatsBook();
    const first = book.of("a.test");
    first.completed_requests = 5;
    expect(book.of("a.test")).toBe(first);
    expect(book.of("b.test")).not.toBe(first);
    expect(book.of("b.test").completed_requests).toBe(0);
    expect([...book.byHost.keys()]).toEqual(["a.test", "b.test"]);
  });

  test("get() looks without making", () => {
    const book = new StatsBook();
    expect(book.get("a.test")).toBeUndefined();
    expect(book.byHost.size).toBe(0);
    const stats = book.of("a.test");
    expect(book.get("a.test")).toBe(stats);
  });

  test("set() overwrites in place, so a reference held by the data plane sees the new values", () => {
    const book = new StatsBook();
    const held = book.of("a.test");
    held.open_requests = 9;
    held.bytes_sent = 9;
    book.set("a.test", record(1, 2, 3, 4));
    expect(book.of("a.test")).toBe(held);
    expect(held.toJSON()).toEqual(record(1, 2, 3, 4));
    book.set("new.test", record(0, 7, 0, 0));
    expect(book.get("new.test")?.completed_requests).toBe(7);
  });

  test("restore() keeps saved totals but nothing in flight", () => {
    const book = new StatsBook();
    const held = book.of("a.test");
    held.open_requests = 3;
    book.restore({ "a.test": record(4, 10, 200, 300), "b.test": record(0, 1, 2, 3) });
    expect(book.of("a.test")).toBe(held);
    expect(held.toJSON()).toEqual(record(0, 10, 200, 300));
    expect(book.get("b.test")?.toJSON()).toEqual(record(0, 1, 2, 3));
  });

  test("restore() counts what is not a finite, non-negative number as zero", () => {
    const book = new StatsBook();
    const saved = {
      "missing.test": {},
      "bad.test": {
        completed_requests: -1,
        bytes_sent: Number.NaN,
        bytes_received: Number.POSITIVE_INFINITY,
      },
      "text.test": { completed_requests: "5", bytes_sent: null, bytes_received: 1.5 },
    } as unknown as Record<string, Partial<StatsRecord>>;
    book.restore(saved);
    expect(book.toJSON()).toEqual({
      "missing.test": ZERO,
      "bad.test": ZERO,
      "text.test": record(0, 0, 0, 1.5),
    });
  });

  test("restore() leaves hosts it was not given alone", () => {
    const book = new StatsBook();
    book.set("kept.test", record(2, 3, 4, 5));
    book.restore({ "other.test": { completed_requests: 1 } });
    expect(book.get("kept.test")?.toJSON()).toEqual(record(2, 3, 4, 5));
  });

  test("toJSON() is an object of host to record, the API's /stats/ form", () => {
    const book = new StatsBook();
    book.set("a.test", record(1, 2, 3, 4));
    book.of("b.test");
    expect(JSON.parse(JSON.stringify(book))).toEqual({
      "a.test": record(1, 2, 3, 4),
      "b.test": ZERO,
    });
  });
});

describe("sum", () => {
  test("adds field by field", () => {
    expect(sum(record(1, 2, 3, 4), record(10, 20, 30, 40))).toEqual(record(11, 22, 33, 44));
  });

  test("a missing record counts as zeros", () => {
    expect(sum(record(1, 2, 3, 4), undefined)).toEqual(record(1, 2, 3, 4));
    expect(sum(undefined, record(1, 2, 3, 4))).toEqual(record(1, 2, 3, 4));
    expect(sum(undefined, undefined)).toEqual(ZERO);
  });

  test("returns a new record and changes neither", () => {
    const a = record(1, 1, 1, 1);
    const b = record(2, 2, 2, 2);
    const total = sum(a, b);
    expect(total).not.toBe(a);
    expect(total).not.toBe(b);
    expect(a).toEqual(record(1, 1, 1, 1));
    expect(b).toEqual(record(2, 2, 2, 2));
  });
});
