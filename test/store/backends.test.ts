/**
 * Drained and disabled backends in the state file: saved through the rule
 * registry's queue like rules, in the change log and in snapshots, and loaded
 * back; files without them load as they are.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AdminState } from "../../src/backend/state.ts";
import { RuleRegistry } from "../../src/rules/registry.ts";
import { parseRule, type Rule } from "../../src/rules/schema.ts";
import { RuleTable } from "../../src/rules/table.ts";
import { StatsBook } from "../../src/stats/host-stats.ts";
import { encodeBatch } from "../../src/store/log-format.ts";
import { StateFileError } from "../../src/store/state-file.ts";
import { openStateStore, type StateStore } from "../../src/store/state-log.ts";
import { stateAfterRestart } from "../support/saved-state.ts";

let dir: string;
let file: string;
let store: StateStore | null = null;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "mantrid-admin-"));
  file = join(dir, "state.json");
});
afterEach(async () => {
  await store?.close().catch(() => {});
  store = null;
  await rm(dir, { recursive: true, force: true });
});

const PROXY = (parseRule(["proxy", { backends: ["127.0.0.1:8000"] }, false]) as { value: Rule })
  .value;

/** A registry over the real store, as `mantrid serve` has it, recording what it applies. */
async function start() {
  store = await openStateStore(file);
  const opened = store;
  const applied: [string, AdminState][] = [];
  const registry = new RuleRegistry(
    new RuleTable(() => null),
    new StatsBook(),
    (changes, snapshot) => opened.save(changes, snapshot),
    opened.loaded.hosts,
    null,
    null,
    { initial: opened.loaded.backends, apply: (key, admin) => applied.push([key, admin]) },
  );
  return { registry, applied };
}

test("each change is in the log once acknowledged, applied after it is durable, and loads again", async () => {
  const { registry, applied } = await start();
  await registry.set("a.test", PROXY); // the first save writes the snapshot
  const changed = registry.setBackend("127.0.0.1:8000", "draining");
  // The API answers from the registry at once; the data plane only once it is on disk.
  expect(registry.backends.get("127.0.0.1:8000")).toBe("draining");
  expect(applied).toEqual([]);
  await changed;
  expect(applied).toEqual([["127.0.0.1:8000", "draining"]]);
  await registry.setBackend("[::1]:9000", "disabled");
  // What a server killed now would load: the snapshot, then the log replayed.
  expect((await stateAfterRestart(file)).backends).toEqual({
    "127.0.0.1:8000": "draining",
    "[::1]:9000": "disabled",
  });
  await registry.setBackend("127.0.0.1:8000", "enabled");
  expect((await stateAfterRestart(file)).backends).toEqual({ "[::1]:9000": "disabled" });
  expect(registry.backends.all()).toEqual({ "[::1]:9000": "disabled" });
});

test("a new snapshot carries them, and a registry applies the stored ones as it starts", async () => {
  const first = await start();
  await first.registry.set("a.test", PROXY);
  await first.registry.setBackend("127.0.0.1:8000", "draining");
  await first.registry.replaceAll(new Map([["b.test", PROXY]]));
  expect(JSON.parse(await readFile(file, "utf8")).backends).toEqual({
    "127.0.0.1:8000": "draining",
  });
  await store!.close();

  const second = await start();
  expect(second.applied).toEqual([["127.0.0.1:8000", "draining"]]);
  expect(second.registry.backends.get("127.0.0.1:8000")).toBe("draining");
  expect(second.registry.backends.get("127.0.0.1:8001")).toBe("enabled");
});

test("a change whose save fails is taken back and never applied", async () => {
  const { registry, applied } = await start();
  // The first save writes the snapshot, which fails without its folder.
  await rm(dir, { recursive: true, force: true });
  await expect(registry.setBackend("127.0.0.1:8000", "disabled")).rejects.toThrow();
  expect(registry.backends.get("127.0.0.1:8000")).toBe("enabled");
  expect(applied).toEqual([]);
});

test('a file in the original format loads with none, and is saved without "backends"', async () => {
  await writeFile(
    file,
    JSON.stringify({ hosts: { "a.test": ["static", { type: "test" }, false] } }),
  );
  const { registry } = await start();
  expect(store!.loaded.backends).toEqual({});
  await registry.replaceAll(new Map([["a.test", PROXY]]));
  expect(Object.keys(JSON.parse(await readFile(file, "utf8"))).sort()).toEqual([
    "hosts",
    "log",
    "stats",
  ]);
});

test("an invalid stored state stops start-up, naming it", async () => {
  const write = (backends: unknown) => writeFile(file, JSON.stringify({ hosts: {}, backends }));
  await write({ "127.0.0.1:8000": "sleeping" });
  await expect(openStateStore(file)).rejects.toThrow(StateFileError);
  await expect(openStateStore(file)).rejects.toThrow(/backends\/127\.0\.0\.1:8000: must be/);
  await write({ "no-port": "draining" });
  await expect(openStateStore(file)).rejects.toThrow(/backends\/no-port/);
  await write(["127.0.0.1:8000"]);
  await expect(openStateStore(file)).rejects.toThrow(/invalid backend state/);
});

test("a log record with a bad backend change stops start-up, naming the record", async () => {
  const { registry } = await start();
  await registry.set("a.test", PROXY);
  await registry.setBackend("127.0.0.1:8000", "draining");
  const log = `${file}.${JSON.parse(await readFile(file, "utf8")).log}.log`;
  await appendFile(log, encodeBatch([{ backend: "127.0.0.1:8000", admin: "asleep" } as never]));
  await expect(openStateStore(file)).rejects.toThrow(/record 2: invalid backend state/);
  await writeFile(log, encodeBatch([{ backend: "nowhere", admin: "draining" }]));
  await expect(openStateStore(file)).rejects.toThrow(/invalid backend address "nowhere"/);
});
