/** When an ACME certificate renews, and how long a failed try waits before the next. */
import { describe, expect, test } from "bun:test";
import { renewalTime, renewWindow, retryDelay } from "../../src/tls/acme/schedule.ts";

const SECOND = 1000;
const DAY = 86_400 * SECOND;
const issued = (days: number) => ({ notBefore: 0, notAfter: days * DAY });

describe("the renewal window", () => {
  test("by default 30 days, or a third of a shorter lifetime", () => {
    expect(renewWindow(issued(90), null)).toEqual({ ms: 30 * DAY, shortened: false });
    expect(renewWindow(issued(365), null)).toEqual({ ms: 30 * DAY, shortened: false });
    expect(renewWindow(issued(6), null)).toEqual({ ms: 2 * DAY, shortened: false });
  });

  test("acme_renew_before when shorter than the lifetime", () => {
    expect(renewWindow(issued(90), 10 * 86_400)).toEqual({ ms: 10 * DAY, shortened: false });
    expect(renewWindow(issued(6), 5 * 86_400)).toEqual({ ms: 5 * DAY, shortened: false });
  });

  test("a third of the lifetime when acme_renew_before is not shorter, so it never renews at once", () => {
    expect(renewWindow(issued(6), 6 * 86_400)).toEqual({ ms: 2 * DAY, shortened: true });
    expect(renewWindow(issued(6), 60 * 86_400)).toEqual({ ms: 2 * DAY, shortened: true });
  });

  test("renewal starts the window before expiry, up to 5 % earlier at random", () => {
    const window = { ms: 30 * DAY, shortened: false };
    expect(renewalTime(90 * DAY, window, () => 0)).toBe(60 * DAY);
    expect(renewalTime(90 * DAY, window, () => 1)).toBe(60 * DAY - 1.5 * DAY);
    const times = Array.from({ length: 200 }, () => renewalTime(90 * DAY, window));
    expect(Math.max(...times)).toBeLessThanOrEqual(60 * DAY);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(58.5 * DAY);
    expect(new Set(times).size).toBeGreaterThan(1);
  });
});

describe("the wait after failures", () => {
  test("a real certificate: from a minute, doubling, at most an hour", () => {
    const waits = [1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) => retryDelay(n, 30 * DAY));
    expect(waits.map((ms) => ms / SECOND)).toEqual([
      60, 120, 240, 480, 960, 1920, 3600, 3600, 3600,
    ]);
  });

  test("a short-lived certificate: from a second, at most a tenth of its window", () => {
    expect([1, 2, 3, 10].map((n) => retryDelay(n, 20 * SECOND))).toEqual([
      SECOND,
      2 * SECOND,
      2 * SECOND,
      2 * SECOND,
    ]);
    expect(retryDelay(1, 0)).toBe(SECOND);
  });
});
