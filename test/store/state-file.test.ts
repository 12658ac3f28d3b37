import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RuleRegistry } from "../../src/rules/registry.ts";
import { parseRule, type Rule } from "../../src/rules/schema.ts";
import { RuleTable } from "../../src/rules/table.ts";
import { StatsBook } from "../../src/stats/host-stats.ts";
import { writeFileDurably } from "../../src/store/durable-write.ts";
import { readSnapshot } from "../../src/store/snapshot.ts";
import { StateFileError } from "../../src/store/state-file.ts";
import { openStateStore, type StateStore } from "../../src/store/state-log.ts";
import { stateAfterRestart } from "../support/saved-state.ts";

let dir: string;
let file: string;
const stores: StateStore[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "mantrid-state-"));
  file = join(dir, "state.json");
});
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  await rm(dir, { recursive: true, force: true });
});

async function openStore(): Promise<StateStore> {
  stores.push(await openStateStore(file));
  return stores.at(-1)!;
}

function rule(triple: unknown[]): Rule {
  const parsed = parseRule(triple);
  if (!parsed.ok) throw new Error("bad rule");
  return parsed.value;
}

describe("loading the snapshot", () => {
  test("a missing file means no rules", async () => {
    expect(await readSnapshot(file)).toEqual({
      hosts: new Map(),
      stats: {},
      backends: {},
      fresh: true,
      log: null,
      bytes: 0,
    });
  });

  test("a file written by the original Mantrid loads, with open_requests reset", async () => {
    await writeFile(
      file,
      JSON.stringify({
        hosts: {
          localhost: ["static", { type: "test" }, false],
          "ep.io": ["proxy", { backends: [["127.0.0.1", 8000]], attempts: 2 }, true],
          "http://ep.io": ["redirect", { redirect_to: "https://ep.io" }, false],
        },
        stats: {
          localhost: { open_requests: 5, completed_requests: 7, bytes_sent: 10, bytes_received: 3 },
        },
      }),
    );
    const state = await readSnapshot(file);
    expect([...state.hosts.keys()].sort()).toEqual(["ep.io", "http://ep.io", "localhost"]);
    expect(state.hosts.get("ep.io")!.options).toEqual({
      backends: [["127.0.0.1", 8000]],
      attempts: 2,
      delay: 1,
    });
    const stats = new StatsBook();
    stats.restore(state.stats);
    expect(stats.get("localhost")!.toJSON()).toEqual({
      open_requests: 0,
      completed_requests: 7,
      bytes_sent: 10,
      bytes_received: 3,
    });
  });

  test("invalid JSON stops with a clear error and leaves the file alone", async () => {
    await writeFile(file, '{"hosts": {');
    await expect(readSnapshot(file)).rejects.toThrow(StateFileError);
    await expect(readSnapshot(file)).rejects.toThrow(/not valid JSON/);
    expect(await readFile(file, "utf8")).toBe('{"hosts": {');
  });

  test("an invalid rule stops start-up, naming it", async () => {
    await writeFile(file, JSON.stringify({ hosts: { "a.test": ["empty", { code: "x" }, false] } }));
    await expect(readSnapshot(file)).rejects.toThrow(/hosts\/a\.test\/options\/code/);
  });

  test("compact, indented and escaped spellings of one file load alike", async () => {
    const document = {
      stats: { "a.test": { completed_requests: 3 } },
      hosts: {
        "a.test": ["empty", { code: 204 }, false],
        "B.test": ["empty", { code: 204 }, false],
        "http://c.test": ["redirect", { redirect_to: "https://c.test/}" }, true],
      },
      extra: [1, { x: "]" }],
    };
    const load = async (text: string) => {
      await writeFile(file, text);
      const state = await readSnapshot(file);
      return { hosts: [...state.hosts], stats: state.stats };
    };
    const compact = await load(JSON.stringify(document));
    expect(compact.hosts.map(([key]) => key)).toEqual(["a.test", "b.test", "http://c.test"]);
    expect(compact.stats).toEqual(document.stats);
    expect(await load(JSON.stringify(document, null, 2))).toEqual(compact);
    // An escape in a key takes the long way through JSON.parse, to the same rules.
    expect(await load(JSON.stringify(document).replace('"a.test"', '"a\\u002etest"'))).toEqual(
      compact,
    );
  });
  test("a folder where the file should be is unreadable: a clear error", async () => {
    await expect(readSnapshot(dir)).rejects.toThrow(/cannot read state file/);
  });
});

describe("durable writes", () => {
  test("a crash between the temp write and the rename leaves the old file whole", async () => {
    const old = { hosts: { "old.test": ["static", { type: "test" }, false] }, stats: {} };
    await writeFileDurably(file, JSON.stringify(old));
    const crash = new Error("power cut");
    await expect(
      writeFileDurably(file, JSON.stringify({ hosts: {}, stats: {} }), async () => {
        throw crash;
      }),
    ).rejects.toBe(crash);
    const state = await readSnapshot(file);
    expect([...state.hosts.keys()]).toEqual(["old.test"]);
    // The leftover temp file is hidden and never read as state.
    expect((await readdir(dir)).filter((name) => !name.startsWith("."))).toEqual(["state.json"]);
  });

  test("a write into a missing folder fails and nothing is half-written", async () => {
    await expect(
      writeFileDurably(
        join(dir, "missing", "state.json"),
        JSON.stringify({ hosts: {}, stats: {} }),
      ),
    ).rejects.toThrow();
    expect(await readdir(dir)).toEqual([]);
  });
});

describe("the registry", () => {
  test("a change is on disk before its promise resolves, and only then in the table", async () => {
    const table = new RuleTable<string>((key) => key);
    const seen: string[] = [];
    const store = await openStore();
    const registry = new RuleRegistry(
      table,
      new StatsBook(),
      async (changes, snapshot) => {
        await store.save(changes, snapshot);
        // Until the write resolves, the data plane must not see the change.
        seen.push(`table has a.test: ${table.get("a.test") !== undefined}`);
      },
      store.loaded.hosts,
    );
    await registry.set("a.test", rule(["static", { type: "test" }, false]));
    expect(seen).toEqual(["table has a.test: false"]);
    expect(table.get("a.test")?.rule.action).toBe("static");
    expect([...(await stateAfterRestart(file)).hosts.keys()]).toEqual(["a.test"]);
  });

  test("changes that arrive during a write share the next one", async () => {
    let writes = 0;
    const store = await openStore();
    const registry = new RuleRegistry(
      new RuleTable<string>((k) => k),
      new StatsBook(),
      async (changes, snapshot) => {
        writes++;
        await store.save(changes, snapshot);
      },
      store.loaded.hosts,
    );
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        registry.set(`h${i}.test`, rule(["empty", { code: 204 }, false])),
      ),
    );
    expect(writes).toBeLessThanOrEqual(2);
    expect([...(await stateAfterRestart(file)).hosts.keys()]).toHaveLength(50);
  });

  test("a failed write rejects, and neither the table nor the answers change", async () => {
    const table = new RuleTable<string>((k) => k);
    let fail = false;
    const store = await openStore();
    const registry = new RuleRegistry(
      table,
      new StatsBook(),
      async (changes, snapshot) => {
        if (fail) throw new Error("disk full");
        await store.save(changes, snapshot);
      },
      store.loaded.hosts,
    );
    await registry.set("keep.test", rule(["empty", { code: 204 }, false]));
    fail = true;
    await expect(registry.set("lost.test", rule(["empty", { code: 204 }, false]))).rejects.toThrow(
      "disk full",
    );
    await expect(registry.delete("keep.test")).rejects.toThrow("disk full");
    expect(registry.has("lost.test")).toBe(false);
    expect(registry.has("keep.test")).toBe(true);
    expect(table.get("lost.test")).toBeUndefined();
    expect(table.get("keep.test")).toBeDefined();
    expect([...(await stateAfterRestart(file)).hosts.keys()]).toEqual(["keep.test"]);
  });

  test("delete of a missing rule resolves false and writes nothing", async () => {
    let writes = 0;
    const registry = new RuleRegistry(
      new RuleTable<string>((k) => k),
      new StatsBook(),
      async () => {
        writes++;
      },
      new Map(),
    );
    expect(await registry.delete("nothing.test")).toBe(false);
    expect(writes).toBe(0);
  });
});
