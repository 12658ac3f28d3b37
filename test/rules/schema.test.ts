import { describe, expect, test } from "bun:test";
import { parseHostname, parseRule, parseRuleSet } from "../../src/rules/schema.ts";

describe("rule schemas", () => {
  test("proxy backends in every accepted form become [host, port] pairs", () => {
    const parsed = parseRule([
      "proxy",
      { backends: "a.test:80,[::1]:8000, 10.0.0.1:81", attempts: "3", delay: "0.5" },
      true,
    ]);
    expect(parsed).toEqual({
      ok: true,
      value: {
        action: "proxy",
        options: {
          backends: [
            ["a.test", 80],
            ["::1", 8000],
            ["10.0.0.1", 81],
          ],
          attempts: 3,
          delay: 0.5,
        },
        match_subdomains: true,
      },
    });
    expect(parseRule(["proxy", { backends: [["a", "80"], "b:81"] }, false])).toMatchObject({
      ok: true,
      value: {
        options: {
          backends: [
            ["a", 80],
            ["b", 81],
          ],
          attempts: 1,
          delay: 1,
        },
      },
    });
  });

  test("defaults of spin", () => {
    expect(parseRule(["spin", {}, true])).toMatchObject({
      ok: true,
      value: { options: { timeout: 120, check_interval: 1 } },
    });
  });

  const bad: [string, unknown, string[]][] = [
    ["empty backends", ["proxy", { backends: [] }, false], ["options", "backends"]],
    ["port out of range", ["proxy", { backends: "a:70000" }, false], ["options", "backends", "0"]],
    ["backend without port", ["proxy", { backends: "a" }, false], ["options", "backends", "0"]],
    ["zero attempts", ["proxy", { backends: "a:1", attempts: 0 }, false], ["options", "attempts"]],
    ["code not numeric", ["empty", { code: "abc" }, false], ["options", "code"]],
    ["code not a status", ["empty", { code: 99 }, false], ["options", "code"]],
    ["static type with a path", ["static", { type: "../etc/passwd" }, false], ["options", "type"]],
    [
      "redirect with CRLF",
      ["redirect", { redirect_to: "a\r\nSet-Cookie: x" }, false],
      ["options", "redirect_to"],
    ],
    [
      "redirect with a space",
      ["redirect", { redirect_to: "a b" }, false],
      ["options", "redirect_to"],
    ],
    ["unknown option", ["static", { type: "test", colour: "red" }, false], ["options", "colour"]],
    ["unknown action", ["teleport", {}, false], ["action"]],
    ["subdomains not boolean", ["static", { type: "test" }, "yes"], ["match_subdomains"]],
    ["spin timeout negative", ["spin", { timeout: -1 }, false], ["options", "timeout"]],
  ];
  for (const [name, input, path] of bad) {
    test(`refused: ${name}, naming ${path.join(".")}`, () => {
      const parsed = parseRule(input);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.problems[0]!.path).toEqual(path);
    });
  }

  test("hostnames: labels, optional protocol prefix, canonical form", () => {
    expect(parseHostname("WWW.Example.COM.")).toEqual({ ok: true, value: "www.example.com" });
    expect(parseHostname("http://ep.io")).toEqual({ ok: true, value: "http://ep.io" });
    for (const bad of [
      "a b",
      "a\r\nb",
      "a/b",
      "",
      "-a.com",
      "a..b",
      "ftp://a.com",
      "a_b.com",
      "é.com",
    ]) {
      expect(parseHostname(bad).ok).toBe(false);
    }
  });

  test("messages say what is wrong", () => {
    const port = parseRule(["proxy", { backends: "a:70000" }, false]);
    expect(port.ok ? "" : port.problems[0]!.message).toBe("a port is 1 to 65535");
    const text = parseRule(["proxy", { backends: "nocolon" }, false]);
    expect(text.ok ? "" : text.problems[0]!.message).toContain('"nocolon" is not host:port');
    const missing = parseRule(["empty", {}, false]);
    expect(missing.ok ? "" : missing.problems[0]!.message).toBe(
      "empty takes code (required), redirect_https and tls",
    );
    expect(parseRuleSet([]).ok).toBe(false);
  });

  test("a rule set names the host and field at fault", () => {
    const parsed = parseRuleSet({
      "ok.test": ["spin", {}, true],
      "bad.test": ["empty", {}, false],
    });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problems[0]!.path).toEqual(["bad.test", "options", "code"]);
  });
});
