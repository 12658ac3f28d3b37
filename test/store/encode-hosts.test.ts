// The snapshot's hosts, encoded as bytes into blocks, must be exactly the JSON the strings would make.
import { expect, test } from "bun:test";
import fc from "fast-check";
import { parseRule, type Rule, toTriple } from "../../src/rules/schema.ts";
import { encodeHosts } from "../../src/store/encode-hosts.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? 200);

/** What the hosts were before they were encoded as bytes: a string per member, joined. */
function reference(hosts: [string, Rule][]): string {
  return `{${hosts.map(([key, rule]) => `"${key}":${JSON.stringify(toTriple(rule))}`).join(",")}}`;
}

async function encoded(hosts: [string, Rule][]): Promise<{ text: string; rules: number }> {
  const parts: Uint8Array[] = [Buffer.from("before")];
  const rules = await encodeHosts(hosts, parts);
  expect(Buffer.from(parts[0]!).toString()).toBe("before");
  return { text: Buffer.concat(parts.slice(1)).toString(), rules };
}

function valid(triple: unknown): Rule {
  const parsed = parseRule(triple);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.value;
}

const RULES: Rule[] = [
  valid(["proxy", { backends: ["127.0.0.1:9000", "[::1]:80"] }, false]),
  valid(["empty", { code: 204 }, true]),
  valid(["redirect", { redirect_to: "https://x.test/a?b=c" }, false]),
  // Not a rule the schema lets through, but the encoder must not care: UTF-8 of any width.
  { action: "static", options: { type: "é✓😀" }, match_subdomains: true } as unknown as Rule,
];

test("any hosts, any rules: the same JSON, byte for byte", async () => {
  const name = fc.stringMatching(/^(https?:\/\/)?[a-z0-9-]{1,20}(\.[a-z0-9-]{1,10}){0,3}$/);
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(fc.tuple(name, fc.constantFrom(...RULES)), { selector: ([key]) => key }),
      async (hosts) => {
        const { text, rules } = await encoded(hosts);
        expect(text).toBe(reference(hosts));
        expect(rules).toBe(hosts.length);
      },
    ),
    { numRuns: RUNS },
  );
});

test("a key beyond ASCII (never a valid hostname) is still UTF-8", async () => {
  const hosts: [string, Rule][] = [
    ["a.test", RULES[1]!],
    ["bü.test", RULES[0]!],
    ["日本.test", RULES[3]!],
  ];
  expect((await encoded(hosts)).text).toBe(reference(hosts));
});

test("no hosts is an empty object", async () => {
  expect(await encoded([])).toEqual({ text: "{}", rules: 0 });
});

test("many hosts fill block after block, and a rule larger than a block gets one of its own", async () => {
  const hosts: [string, Rule][] = [];
  for (let i = 0; i < 40_000; i++) hosts.push([`h${i}.example.com`, RULES[i % RULES.length]!]);
  const backends = Array.from({ length: 60_000 }, (_, i) => `10.${i >> 8}.${i & 255}.1:8080`);
  hosts.splice(20_000, 0, ["large.example.com", valid(["proxy", { backends }, false])]);
  const parts: Uint8Array[] = [];
  await encodeHosts(hosts, parts);
  expect(parts.length).toBeGreaterThan(3);
  expect(Buffer.concat(parts).toString()).toBe(reference(hosts));
});
