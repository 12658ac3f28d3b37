/** The `random` policy: every backend can be chosen, and nothing else. */
import { expect, test } from "bun:test";
import { policyNamed } from "../../src/balance/index.ts";
import { randomPolicy } from "../../src/balance/random.ts";

const backends = [1, 2, 3].map((n) => ({ host: "127.0.0.1", port: 8000 + n, key: `b${n}` }));

test("one backend is always the one", () => {
  expect(randomPolicy.pick(backends.slice(0, 1))).toBe(backends[0]!);
});

test("over many picks each backend comes up, and only they do", () => {
  const seen = new Map<string, number>();
  for (let i = 0; i < 3000; i++) {
    const picked = randomPolicy.pick(backends);
    seen.set(picked.key, (seen.get(picked.key) ?? 0) + 1);
  }
  expect([...seen.keys()].sort()).toEqual(["b1", "b2", "b3"]);
  // Each is chosen about a third of the time (far outside chance if the choice were skewed).
  for (const count of seen.values()) expect(count).toBeGreaterThan(700);
});

test("policies are found by name; an unknown name is an error", () => {
  expect(policyNamed("random")).toBe(randomPolicy);
  expect(() => policyNamed("nope")).toThrow('no balancing policy named "nope"');
});
