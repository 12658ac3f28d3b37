import { afterEach, beforeEach, expect, test } from "bun:test";
import { appendFile, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Change } from "../../src/rules/registry.ts";
import { parseRule, type Rule } from "../../src/rules/schema.ts";
import { StateFileError } from "../../src/store/state-file.ts";
import { openStateStore, type StateStore, type StoreOptions } from "../../src/store/state-log.ts";

let dir: string;
let file: string;
const stores: StateStore[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "mantrid-log-"));
  file = join(dir, "state.json");
});
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close().catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

const rule = (code: number) => (parseRule(["empty", { code }, false]) as { value: Rule }).value;

const open = async (path = file, options: StoreOptions = {}): Promise<StateStore> => {
  stores.push(await openStateStore(path, options));
  return stores.at(-1)!;
};

const set = (key: string, code: number): Change => ({ kind: "set", key, rule: rule(code) });

function apply(rules: Map<string, Rule>, changes: readonly Change[]): Map<string, Rule> {
  for (const change of changes) {
    if (change.kind === "set") rules.set(change.key, change.rule);
    if (change.kind === "delete") rules.delete(change.key);
    if (change.kind !== "replace") continue;
    rules.clear();
    for (const [key, value] of change.rules) rules.set(key, value);
  }
  return rules;
}

/** Saves exact batches; as the registry's does, `snapshot` reads live state (exact until resolved). */
function writer(store: StateStore) {
  const rules = new Map(store.loaded.hosts);
  const stats: Record<string, { completed_requests: number }> = {};
  return {
    stats,
    async save(...changes: Change[]): Promise<void> {
      await store.save(changes, () => {
        const hosts = apply(new Map(rules), changes);
        return { hosts, stats: structuredClone(stats) as never, backends: {} };
      });
      apply(rules, changes);
    },
  };
}

/** What a fresh process would load from `path`, as code per host. */
async function codes(path = file): Promise<Record<string, unknown>> {
  const store = await open(path);
  const code = (rule: Rule) => (rule.options as { code?: number }).code;
  return Object.fromEntries([...store.loaded.hosts].map(([k, v]) => [k, code(v)]));
}

const lines = async (path: string) => (await readFile(path, "utf8")).split("\n").filter(Boolean);
const logOf = async () => `${file}.${JSON.parse(await readFile(file, "utf8")).log}.log`;

test("set, delete and replace survive a reopen; appended to, until a replaced set makes a new snapshot", async () => {
  const store = await open();
  expect(store.loaded).toEqual({ hosts: new Map(), stats: {}, backends: {}, fresh: true });
  const w = writer(store);
  await w.save(set("a.test", 201));
  const snapshot = await readFile(file, "utf8");
  expect(JSON.parse(snapshot).hosts).toEqual({ "a.test": ["empty", { code: 201 }, false] });
  await w.save(set("b.test", 202));
  await w.save(set("c.test", 203), { kind: "delete", key: "a.test" });
  expect(await readFile(file, "utf8")).toBe(snapshot);
  expect(await codes()).toEqual({ "b.test": 202, "c.test": 203 });
  expect(await lines(await logOf())).toHaveLength(2);
  await w.save({ kind: "replace", rules: new Map([["r.test", rule(210)]]) }, set("s.test", 211));
  expect(await codes()).toEqual({ "r.test": 210, "s.test": 211 });
  expect(Object.keys(JSON.parse(await readFile(file, "utf8")).hosts)).toEqual(["r.test", "s.test"]);
  expect(await lines(await logOf())).toHaveLength(0);
});

test("a file in the original format loads as before, then gets a log", async () => {
  const stats = { "old.test": { open_requests: 1, completed_requests: 7 } };
  const original = { hosts: { "old.test": ["empty", { code: 204 }, false] }, stats };
  await writeFile(file, JSON.stringify(original));
  const store = await open();
  expect(store.loaded.stats).toEqual(stats);
  expect(await readFile(file, "utf8")).toBe(JSON.stringify(original));
  const w = writer(store);
  await w.save(set("new.test", 205));
  const converted = JSON.parse(await readFile(file, "utf8"));
  expect(converted.log).toMatch(/^[0-9a-z]+$/);
  expect(Object.keys(converted.hosts)).toEqual(["old.test", "new.test"]);
  await w.save(set("newer.test", 206));
  expect(await codes()).toEqual({ "old.test": 204, "new.test": 205, "newer.test": 206 });
});

test("a batch of many changes is one line, written by one append", async () => {
  const store = await open();
  const w = writer(store);
  await w.save(set("first.test", 200));
  const changes = Array.from({ length: 500 }, (_, i) => set(`h${i}.test`, 200 + (i % 300)));
  await w.save(...changes, { kind: "delete", key: "first.test" });
  const written = await lines(await logOf());
  expect(written.map((line) => JSON.parse(line.slice(9)).length)).toEqual([501]);
  expect(store.status.changes).toBe(501);
  expect(Object.keys(await codes())).toHaveLength(500);
});

async function threeBatches(): Promise<string> {
  const w = writer(await open());
  // The first save writes the snapshot, the others one line each.
  for (const [i, host] of ["a", "b", "c", "d"].entries())
    await w.save(set(`${host}.test`, 201 + i));
  return logOf();
}

for (const [name, tail] of [
  ["half a line", (line: string) => line.slice(0, line.length / 2)],
  ["a whole line that fails its check", (line: string) => line.replace("205", "206")],
  ["zeros where the last write should be", (line: string) => "\0".repeat(line.length)],
] as const) {
  test(`a torn last record (${name}) is left out and cut off`, async () => {
    const log = await threeBatches();
    const good = await readFile(log);
    const whole = `${(await lines(log))[2]!.replace("d.test", "e.test").replace("204", "205")}\n`;
    await appendFile(log, tail(whole));
    expect(await codes()).toEqual({ "a.test": 201, "b.test": 202, "c.test": 203, "d.test": 204 });
    expect(await readFile(log)).toEqual(good);
  });
}

test("a damaged record before the last, an invalid rule or a missing log stops the load", async () => {
  const log = await threeBatches();
  const [snapshot, sound] = [await readFile(file, "utf8"), await readFile(log, "utf8")];
  await writeFile(log, sound.replace("203", "209"));
  await expect(openStateStore(file)).rejects.toThrow(/record 2 .* fails its check/);
  expect(await readFile(log, "utf8")).toBe(sound.replace("203", "209"));
  expect(await readFile(file, "utf8")).toBe(snapshot);
  const json = '[{"set":"x.test","rule":["empty",{"code":"x"},false]}]';
  await writeFile(log, `${sound}${Bun.hash.crc32(json).toString(16).padStart(8, "0")} ${json}\n`);
  await expect(openStateStore(file)).rejects.toThrow(/record 4: invalid rule for x.test/);
  await rm(log);
  await expect(openStateStore(file)).rejects.toThrow(StateFileError);
  await expect(openStateStore(file)).rejects.toThrow(/which is missing/);
});

test("a crash at any compaction step loads the acknowledged state; appends go on meanwhile", async () => {
  const live = join(dir, "live");
  await mkdir(live);
  const crashes: { step: string; folder: string; expected: Record<string, number> }[] = [];
  const acknowledged: Record<string, number> = {};
  const copy = async (step: string) => {
    const folder = join(dir, `crash-${crashes.length}`);
    await cp(live, folder, { recursive: true });
    crashes.push({ step, folder, expected: { ...acknowledged } });
  };
  let armed = false;
  const done = Promise.withResolvers<void>();
  const store = await open(join(live, "state.json"), {
    compactAfterChanges: 3,
    onCompaction: async (step) => {
      if (!armed) return; // the first save's, which makes the snapshot
      await copy(step);
      if (step === "snapshot-written") {
        // Only the switch-over waits for appends, so these resolve meanwhile.
        await w.save(set("during.test", 230));
        acknowledged["during.test"] = 230;
        await w.save({ kind: "delete", key: "a.test" });
        delete acknowledged["a.test"];
        await copy("snapshot-written later");
      }
      if (step === "done") done.resolve();
    },
  });
  const w = writer(store);
  for (const [i, host] of ["a", "b", "c", "d", "e"].entries()) {
    await w.save(set(`${host}.test`, 201 + i));
    acknowledged[`${host}.test`] = 201 + i;
    armed = true;
  }
  await done.promise;
  const steps = "snapshot-written,snapshot-written later,log-ready,renamed,done";
  expect(crashes.map((crash) => crash.step).join()).toBe(steps);
  for (const crash of crashes) {
    await writeFile(join(crash.folder, "state.json.zzzz.log"), "not a log\n");
    const loaded = await codes(join(crash.folder, "state.json"));
    expect({ step: crash.step, loaded }).toEqual({ step: crash.step, loaded: crash.expected });
    // Leftovers (other logs, the temp file) are ignored, and gone once it is open.
    expect(await readdir(crash.folder)).toHaveLength(2);
  }
  await w.save(set("after.test", 240));
  expect(await codes(join(live, "state.json"))).toEqual({ ...acknowledged, "after.test": 240 });
  expect(await readdir(live)).toHaveLength(2);
});

test("a compaction that fails before the rename leaves the old pair in use", async () => {
  for (const failAt of ["snapshot-written", "log-ready"]) {
    await rm(file, { force: true });
    let failures = 0;
    let armed = false; // not the first save, which makes the snapshot
    const store = await open(file, {
      compactAfterChanges: 0,
      onCompaction: (step) => {
        if (armed && step === failAt && failures++ === 0) throw new Error("disk full");
      },
    });
    const w = writer(store);
    await w.save(set("a.test", 201));
    armed = true;
    await w.save(set("b.test", 202)); // compacts, and fails once
    await Bun.sleep(50);
    await w.save(set("c.test", 203));
    expect(failures).toBe(1);
    // The new log of the failed compaction is gone; the old one is still in use.
    expect((await readdir(dir)).filter((name) => name.endsWith(".log"))).toHaveLength(1);
    expect(await codes()).toEqual({ "a.test": 201, "b.test": 202, "c.test": 203 });
  }
});

test("a counters save rewrites a small snapshot, or logs them for a large one", async () => {
  for (const rewriteOnFlushBytes of [undefined, 0]) {
    await rm(file, { force: true });
    const w = writer(await open(file, { rewriteOnFlushBytes }));
    await w.save(set("a.test", 201));
    await w.save(set("b.test", 202));
    w.stats["a.test"] = { completed_requests: 5 };
    await w.save({ kind: "none" });
    const snapshot = JSON.parse(await readFile(file, "utf8"));
    expect(snapshot.stats["a.test"] !== undefined).toBe(rewriteOnFlushBytes === undefined);
    expect((await open()).loaded.stats).toEqual({ "a.test": { completed_requests: 5 } });
    const before = await readFile(await logOf());
    await w.save({ kind: "none" });
    expect(await readFile(await logOf())).toEqual(before);
  }
});

test("200,000 rules: load, one change, reopen", async () => {
  const hosts: Record<string, unknown> = {};
  for (let i = 0; i < 200_000; i++)
    hosts[`h${i}.example.com`] = ["empty", { code: 200 + (i % 300) }, false];
  await writeFile(file, JSON.stringify({ hosts, stats: {} }));
  await writer(await open()).save(set("h7.example.com", 599)); // makes the first snapshot
  const store = await open();
  expect(store.loaded.hosts.size).toBe(200_000);
  const snapshot = await readFile(file, "utf8");
  await writer(store).save(set("h9.example.com", 598), { kind: "delete", key: "h8.example.com" });
  expect(await readFile(file, "utf8")).toBe(snapshot);
  const loaded = await codes();
  expect(Object.keys(loaded)).toHaveLength(199_999);
  const [h7, h8, h9, last] = [7, 8, 9, 199_999].map((i) => loaded[`h${i}.example.com`]);
  expect([h7, h8, h9, last]).toEqual([599, undefined, 598, 200 + (199_999 % 300)]);
});

test("SIGKILL at random moments, compacting often: every acknowledged change loads", async () => {
  const src = (path: string) => JSON.stringify(join(import.meta.dir, "../../src", path));
  const child = `
    import { openStateStore } from ${src("store/state-log.ts")};
    import { RuleRegistry } from ${src("rules/registry.ts")};
    import { parseRule } from ${src("rules/schema.ts")};
    import { RuleTable } from ${src("rules/table.ts")};
    import { StatsBook } from ${src("stats/host-stats.ts")};
    const round = process.env.ROUND;
    const store = await openStateStore(process.env.STATE, {
      compactAfterChanges: 40,
      rewriteOnFlushBytes: round % 2 ? 0 : undefined,
    });
    const [stats, save] = [new StatsBook(), (changes, snap) => store.save(changes, snap)];
    const registry = new RuleRegistry(new RuleTable(() => null), stats, save, store.loaded.hosts);
    const rule = parseRule(["empty", { code: 204 }, false]).value;
    for (let n = 0; ; n++) {
      const [kept, gone] = ["r" + round + "-" + n + ".test", "r" + round + "-" + n + "-gone.test"];
      stats.of(kept).completed_requests = n;
      if (n % 15 === 0) registry.flush();
      await Promise.all([registry.set(kept, rule), registry.set(gone, rule)]);
      process.stdout.write("+" + kept + "\\n");
      await registry.delete(gone);
      process.stdout.write("-" + gone + "\\n");
    }`;
  const acknowledged: string[] = [];
  for (let round = 0; round < 20; round++) {
    const process = Bun.spawn([globalThis.process.execPath, "-e", child], {
      env: { ...globalThis.process.env, STATE: file, ROUND: String(round) },
      stderr: "inherit",
    });
    // Killed once it has acknowledged a random number of changes: mid-write, mid-compaction,
    // wherever the child happens to be by then.
    const target = 10 + Math.floor(Math.random() * 30);
    const output = readUntil(process.stdout, target, () => process.kill("SIGKILL"));
    await process.exited;
    acknowledged.push(...(await output).split("\n").filter(Boolean));
    const loaded = await codes();
    const present = (op: string) => loaded[op.slice(1)] === 204;
    expect(acknowledged.filter((op) => present(op) !== (op[0] === "+"))).toEqual([]);
  }
  expect(acknowledged.length).toBeGreaterThanOrEqual(20 * 10);
}, 60_000);

/** All a stream gives until it ends; `reached` is called once `lines` whole lines have come. */
async function readUntil(
  stream: ReadableStream<Uint8Array>,
  lines: number,
  reached: () => void,
): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  let called = false;
  for await (const chunk of stream) {
    text += decoder.decode(chunk, { stream: true });
    if (!called && text.split("\n").length > lines) {
      called = true;
      reached();
    }
  }
  return text + decoder.decode();
}
