import { describe, expect, test } from "bun:test";
import { formatAccessLine } from "../../src/stats/access-line.ts";
import { ended } from "./ended.ts";

describe("formatAccessLine", () => {
  test("one JSON object on one line, with every field", () => {
    const line = formatAccessLine(ended());
    expect(line.endsWith("}\n")).toBe(true);
    expect(line.indexOf("\n")).toBe(line.length - 1);
    expect(JSON.parse(line)).toEqual({
      time: new Date(performance.timeOrigin + 1012.3456).toISOString(),
      client: "203.0.113.7",
      host: "app.example.com",
      method: "GET",
      target: "/index.html",
      status: 200,
      completed: true,
      bytes_in: 88,
      bytes_out: 612,
      rule: "app.example.com",
      backend: "10.0.0.5:8000",
      attempts: 1,
      head_ms: 9.877,
      total_ms: 12.346,
      held_ms: 0,
    });
  });

  test("the time is the wall-clock time the request ended", () => {
    const now = performance.now();
    const time = JSON.parse(formatAccessLine(ended({ endedAt: now }))).time;
    expect(Math.abs(Date.parse(time) - Date.now())).toBeLessThan(60_000);
  });

  test("no rule, no backend, no head, no status: nulls and zeros", () => {
    const fields = JSON.parse(
      formatAccessLine(
        ended({
          ruleKey: null,
          backend: null,
          headMs: -1,
          status: 0,
          completed: false,
          attempts: 0,
          heldMs: 2500.5,
        }),
      ),
    );
    expect(fields).toMatchObject({
      rule: null,
      backend: null,
      head_ms: null,
      status: 0,
      completed: false,
      attempts: 0,
      held_ms: 2500.5,
    });
  });

  test("milliseconds to the microsecond", () => {
    const cases: [number, string][] = [
      [0, "0"],
      [0.0004, "0"],
      [0.0005, "0.001"],
      [2.05, "2.05"],
      [3.007, "3.007"],
      [4.0301, "4.03"],
      [5, "5"],
      [1234.5678, "1234.568"],
    ];
    for (const [value, text] of cases) {
      const line = formatAccessLine(ended({ headMs: value }));
      expect(line).toContain(`"head_ms":${text},`);
    }
  });

  test("quotes, backslashes and control characters cannot break the line", () => {
    const path = '/a"b\\c\nd\te\u0001\u00ff';
    const line = formatAccessLine(ended({ path, host: 'x"y', method: "P\nOST" }));
    expect(line.indexOf("\n")).toBe(line.length - 1);
    const fields = JSON.parse(line);
    expect(fields.target).toBe(path);
    expect(fields.host).toBe('x"y');
    expect(fields.method).toBe("P\nOST");
  });
});
