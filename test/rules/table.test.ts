import { describe, expect, test } from "bun:test";
import { authorityHost, canonicalHost } from "../../src/rules/host.ts";
import { parseRule, type Rule } from "../../src/rules/schema.ts";
import { RuleTable } from "../../src/rules/table.ts";

function rule(triple: unknown[]): Rule {
  const parsed = parseRule(triple);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.value;
}

/** The table compiles a rule to its key, so a lookup shows which rule matched. */
function table(rules: Record<string, unknown[]>): RuleTable<string> {
  const t = new RuleTable<string>((key) => key);
  t.replaceAll(new Map(Object.entries(rules).map(([k, r]) => [k, rule(r)])));
  return t;
}

describe("resolution: the original Mantrid's table", () => {
  const t = table({
    localhost: ["empty", { code: 500 }, false],
    "local.ep.io": ["spin", {}, true],
    "http://ep.io": ["redirect", { redirect_to: "https://www.ep.io" }, true],
    "ep.io": ["proxy", { backends: ["127.0.0.1:8000"] }, true],
  });
  const cases: [string, "http" | "https", string | null][] = [
    ["localhost", "http", "localhost"],
    ["local.ep.io", "http", "local.ep.io"],
    ["ep.io", "http", "http://ep.io"],
    ["ep.io", "https", "ep.io"],
    ["subdomain.localhost", "http", null],
    ["multi.level.subdomain.local.ep.io", "http", "local.ep.io"],
    ["i-love-bees.com", "http", null],
  ];
  for (const [host, protocol, expected] of cases) {
    test(`${protocol}://${host} → ${expected ?? "unknown"}`, () => {
      const hit = t.resolve(host, protocol);
      expect(hit?.action ?? null).toBe(expected);
      if (host === "localhost") expect(hit?.rule.action).toBe("empty");
      if (host === "local.ep.io") expect(hit?.rule.action).toBe("spin");
    });
  }
});

describe("resolution rules", () => {
  test("a parent matches only when its rule allows subdomains", () => {
    const t = table({ "example.com": ["empty", { code: 204 }, false] });
    expect(t.resolve("example.com", "http")?.key).toBe("example.com");
    expect(t.resolve("www.example.com", "http")).toBeNull();
  });

  test("the nearest parent wins over a farther one", () => {
    const t = table({
      "example.com": ["empty", { code: 204 }, true],
      "a.example.com": ["empty", { code: 205 }, true],
    });
    expect(t.resolve("x.a.example.com", "http")?.key).toBe("a.example.com");
    expect(t.resolve("x.b.example.com", "http")?.key).toBe("example.com");
  });

  test("a prefixed rule that refuses subdomains does not hide a bare one that allows them", () => {
    const t = table({
      "https://example.com": ["empty", { code: 204 }, false],
      "example.com": ["empty", { code: 205 }, true],
    });
    expect(t.resolve("example.com", "https")?.key).toBe("https://example.com");
    expect(t.resolve("www.example.com", "https")?.key).toBe("example.com");
  });

  test("the protocol prefix only applies to its own protocol", () => {
    const t = table({ "https://secure.test": ["empty", { code: 204 }, false] });
    expect(t.resolve("secure.test", "https")?.key).toBe("https://secure.test");
    expect(t.resolve("secure.test", "http")).toBeNull();
  });

  test("set, delete and replace change lookups and fire one change each", () => {
    const t = new RuleTable<string>((key) => key);
    let changes = 0;
    t.onChange(() => changes++);
    t.set("a.test", rule(["empty", { code: 204 }, false]));
    expect(t.resolve("a.test", "http")?.key).toBe("a.test");
    expect(t.delete("a.test")).toBe(true);
    expect(t.delete("a.test")).toBe(false);
    expect(t.resolve("a.test", "http")).toBeNull();
    t.replaceAll(new Map([["b.test", rule(["empty", { code: 204 }, false])]]));
    expect(changes).toBe(3);
    expect(t.size).toBe(1);
  });

  test("a whole set makes each distinct rule ready at once, and sorts keys by prefix", () => {
    const compiled: string[] = [];
    const t = new RuleTable<string>((key) => {
      compiled.push(key);
      return key;
    });
    const shared = rule(["empty", { code: 204 }, true]);
    const rules = new Map<string, Rule>();
    for (let i = 0; i < 1000; i++) rules.set(`h${i}.test`, shared);
    rules.set("http://h1.test", rule(["empty", { code: 201 }, false]));
    rules.set("httpbin.test", shared);
    t.replaceAll(rules);
    expect(compiled).toEqual(["h0.test", "http://h1.test"]);
    expect(t.size).toBe(1002);
    expect(t.resolve("h1.test", "http")?.key).toBe("http://h1.test");
    expect(t.resolve("h1.test", "https")?.key).toBe("h1.test");
    expect(t.resolve("www.httpbin.test", "http")?.key).toBe("httpbin.test");
    expect(t.resolve("h7.test", "http")).toBe(t.resolve("h7.test", "http"));
    // A rule set again gets its new rule on the next lookup.
    t.set("h7.test", rule(["empty", { code: 202 }, false]));
    expect(t.resolve("h7.test", "http")?.rule.options).toEqual({ code: 202 });
    expect(t.resolve("x.h7.test", "http")).toBeNull();
    expect(t.delete("h7.test")).toBe(true);
    expect(t.resolve("h7.test", "http")).toBeNull();
    expect([...t.frozen()].map(([key]) => key)).toHaveLength(1001);
  });

  test("the set given and the sets handed out never see the table's later changes", () => {
    const a = rule(["empty", { code: 204 }, true]);
    const b = rule(["empty", { code: 201 }, false]);
    const given = new Map<string, Rule>([
      ["a.test", a],
      ["http://p.test", b],
      ["b.test", b],
    ]);
    const t = new RuleTable<string>((key) => key);
    t.replaceAll(given);
    const frozen = t.frozen();
    t.set("c.test", a);
    t.set("a.test", b);
    expect(t.delete("b.test")).toBe(true);
    expect([...given]).toEqual([
      ["a.test", a],
      ["http://p.test", b],
      ["b.test", b],
    ]);
    const sorted = (entries: Iterable<readonly [string, Rule]>) =>
      [...entries].map(([key, r]) => `${key}=${r === a ? "a" : "b"}`).sort();
    expect(sorted(frozen)).toEqual(["a.test=a", "b.test=b", "http://p.test=b"]);
    expect(sorted(t.frozen())).toEqual(["a.test=b", "c.test=a", "http://p.test=b"]);
    // Handed out again, then changed again: the second one stands too.
    const second = t.frozen();
    t.delete("c.test");
    expect(sorted(second)).toEqual(["a.test=b", "c.test=a", "http://p.test=b"]);
    expect(t.resolve("c.test", "http")).toBeNull();
    expect(t.resolve("a.test", "http")?.rule).toBe(b);
  });

  test("the observer hears each key's rule come and go on a whole new set", () => {
    const a = rule(["empty", { code: 204 }, true]);
    const b = rule(["empty", { code: 201 }, false]);
    const heard: string[] = [];
    const name = (r: Rule) => (r === a ? "a" : "b");
    const t = new RuleTable<string>((key) => key, {
      added: (r) => heard.push(`+${name(r)}`),
      removed: (r) => heard.push(`-${name(r)}`),
    });
    t.replaceAll(
      new Map([
        ["x.test", a],
        ["https://y.test", b],
        ["z.test", a],
      ]),
    );
    expect(heard.sort()).toEqual(["+a", "+a", "+b"]);
    heard.length = 0;
    t.replaceAll(new Map([["x.test", b]]));
    expect(heard.sort()).toEqual(["+b", "-a", "-a", "-b"]);
  });

  test("lookups stay label-bound with 100,000 rules", () => {
    const rules = new Map<string, Rule>();
    const r = rule(["empty", { code: 204 }, true]);
    for (let i = 0; i < 100_000; i++) rules.set(`host${i}.example.com`, r);
    const t = new RuleTable<string>((key) => key);
    t.replaceAll(rules);
    expect(t.resolve("www.host99999.example.com", "http")?.key).toBe("host99999.example.com");
    expect(t.resolve("nope.example.org", "http")).toBeNull();
  });
});

describe("canonical Host", () => {
  const cases: [string | null, string][] = [
    ["Example.COM", "example.com"],
    ["example.com:8080", "example.com"],
    ["example.com.", "example.com"],
    ["example.com.:80", "example.com"],
    ["[::1]:8080", "[::1]"],
    ["[::1]", "[::1]"],
    [null, ""],
    ["localhost", "localhost"],
  ];
  for (const [input, expected] of cases) {
    test(`${input} → ${expected}`, () => expect(canonicalHost(input)).toBe(expected));
  }
});

describe("authority of an absolute-form target", () => {
  test("host of the target, canonical", () => {
    expect(authorityHost("http://Example.COM:8080/a?b")).toBe("example.com");
    expect(authorityHost("https://a.test")).toBe("a.test");
    expect(authorityHost("http://a.test?x=1")).toBe("a.test");
    expect(authorityHost("http://[::1]:80/")).toBe("[::1]");
  });
});
