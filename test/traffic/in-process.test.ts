/**
 * Traffic served in this process: rules given to the registry and changes
 * followed from a successor both reach the requests on its listeners.
 */
import { afterEach, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAddress } from "../../src/config/address.ts";
import { type Config, DEFAULTS } from "../../src/config/config.ts";
import { parseRule } from "../../src/rules/schema.ts";
import { StatsBook } from "../../src/stats/host-stats.ts";
import { CertificateCatalog } from "../../src/tls/catalog.ts";
import { ChallengeBook } from "../../src/tls/challenges.ts";
import { startInProcess } from "../../src/traffic/in-process.ts";
import type { Traffic } from "../../src/traffic/traffic.ts";

let traffic: Traffic | null = null;
let folder = "";

afterEach(async () => {
  await traffic?.stop(0);
  traffic = null;
  await rm(folder, { recursive: true, force: true });
});

async function start(): Promise<Traffic> {
  folder = await mkdtemp(join(tmpdir(), "mantrid-traffic-"));
  const config: Config = {
    ...DEFAULTS,
    bind: [parseAddress("127.0.0.1:0")],
    bindInternal: [],
    stateFile: join(folder, "state.json"),
    staticDir: join(folder, "static"),
  };
  const tls = { certificates: new CertificateCatalog(), challenges: new ChallengeBook() };
  traffic = startInProcess({
    config,
    stats: new StatsBook(),
    save: async () => {},
    rules: new Map(),
    backends: {},
    tls,
  });
  return traffic;
}

const get = (port: number, host: string) =>
  fetch(`http://127.0.0.1:${port}/`, { headers: { host }, redirect: "manual" });

test("a rule set through the registry serves on the listener", async () => {
  const served = await start();
  const port = served.ports.bind[0]!;
  // No rules at all: the no-hosts page.
  expect((await get(port, "a.test")).status).toBe(503);
  const rule = parseRule(["empty", { code: 204 }, false]);
  if (!rule.ok) throw new Error("the test rule is invalid");
  await served.registry.set("a.test", rule.value);
  expect((await get(port, "a.test")).status).toBe(204);
});

test("changes followed from a successor reach the table without a save", async () => {
  const served = await start();
  const port = served.ports.bind[0]!;
  served.follow([
    { kind: "set", key: "b.test", rule: ["redirect", { redirect_to: "https://c.test" }, false] },
  ]);
  const answer = await get(port, "b.test");
  expect(answer.status).toBe(302);
  expect(answer.headers.get("location")).toStartWith("https://c.test");
  // Followed, not owned: the registry (and so the state file) never saw it.
  expect(served.registry.size).toBe(0);
});
