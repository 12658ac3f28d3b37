import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { type Level, log, setDebug, setLogLevel } from "../src/log.ts";
import { stderrOf } from "./support/stderr.ts";

const LEVELS: Level[] = ["debug", "info", "warn", "error"];

/** The lines `action` writes to stderr. */
function linesOf(action: () => void): string[] {
  return stderrOf(action)
    .split("\n")
    .filter((line) => line !== "");
}

/** The levels written now, found by writing one line at each. */
function written(): Level[] {
  const lines = linesOf(() => {
    for (const level of LEVELS) log[level](`probe ${level}`);
  });
  return LEVELS.filter((level) => lines.some((line) => line.endsWith(`probe ${level}`)));
}

// The level is the process's: leave it as the other tests had it.
const before = written()[0] ?? "error";
afterAll(() => setLogLevel(before));
beforeEach(() => setLogLevel("info"));

describe("log", () => {
  test("one line per message: ISO time, level padded to five, message", () => {
    const lines = linesOf(() => {
      log.info("started on 127.0.0.1:80");
      log.warn("a warning");
      log.error("it broke: twice");
    });
    expect(lines).toHaveLength(3);
    const [info, warn, error] = lines;
    expect(info).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info {2}started on 127\.0\.0\.1:80$/,
    );
    expect(warn).toMatch(/Z warn {2}a warning$/);
    expect(error).toMatch(/Z error it broke: twice$/);
    const time = Date.parse(info!.split(" ")[0]!);
    expect(Number.isNaN(time)).toBe(false);
  });

  test("at info, debug lines are left out", () => {
    expect(written()).toEqual(["info", "warn", "error"]);
  });

  test("setLogLevel writes that level and the more severe ones", () => {
    setLogLevel("warn");
    expect(written()).toEqual(["warn", "error"]);
    setLogLevel("error");
    expect(written()).toEqual(["error"]);
    setLogLevel("debug");
    expect(written()).toEqual(LEVELS);
  });

  test("setDebug(true) turns debug lines on, whatever the level was", () => {
    setLogLevel("error");
    setDebug(true);
    expect(written()).toEqual(LEVELS);
  });

  test("setDebug(false) turns debug off back to info", () => {
    setDebug(true);
    setDebug(false);
    expect(written()).toEqual(["info", "warn", "error"]);
  });

  test("setDebug(false) leaves a quieter level as it was", () => {
    setLogLevel("warn");
    setDebug(false);
    expect(written()).toEqual(["warn", "error"]);
  });
});
