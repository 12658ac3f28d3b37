import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { parseAddress } from "../../src/config/address.ts";
import { type Config, DEFAULTS } from "../../src/config/config.ts";
import { parseRule, type Rule, type RuleTriple, toTriples } from "../../src/rules/schema.ts";
import { RuleTable } from "../../src/rules/table.ts";
import { type FromWorker, type ToWorker, WORKER_ENV } from "../../src/workers/messages.ts";
import { applyChange } from "../../src/workers/worker.ts";
import { SRC } from "../support/script.ts";
import { stderrOf } from "../support/stderr.ts";
import { connect, parseResponses } from "../support/wire.ts";

describe("applyChange", () => {
  const table = (rules: Record<string, RuleTriple> = {}) => {
    const made = new RuleTable<Rule>((_key, rule) => rule);
    for (const [key, triple] of Object.entries(rules)) {
      const parsed = parseRule(triple);
      if (!parsed.ok) throw new Error(`bad rule for ${key}`);
      made.set(key, parsed.value);
    }
    return made;
  };
  const contents = (rules: RuleTable<Rule>) => toTriples(rules.frozen());

  test("set adds or replaces one rule, prefixed keys included", () => {
    const rules = table({ "a.test": ["empty", { code: 201 }, false] });
    applyChange(rules, { kind: "set", key: "a.test", rule: ["empty", { code: 202 }, true] });
    applyChange(rules, {
      kind: "set",
      key: "https://b.test",
      rule: ["static", { type: "test" }, false],
    });
    expect(contents(rules)).toEqual({
      "a.test": ["empty", { code: 202 }, true],
      "https://b.test": ["static", { type: "test" }, false],
    });
    expect(rules.resolve("b.test", "https")?.key).toBe("https://b.test");
  });

  test("a rule that does not parse changes nothing and is logged", () => {
    const rules = table({ "a.test": ["empty", { code: 201 }, false] });
    const version = rules.version;
    const log = stderrOf(() =>
      applyChange(rules, { kind: "set", key: "a.test", rule: ["empty", { code: 99 }, false] }),
    );
    expect(contents(rules)).toEqual({ "a.test": ["empty", { code: 201 }, false] });
    expect(rules.version).toBe(version);
    expect(log).toContain("worker: refused rule for a.test");
  });

  test("delete removes one rule", () => {
    const rules = table({
      "a.test": ["empty", { code: 201 }, false],
      "b.test": ["empty", { code: 202 }, false],
    });
    applyChange(rules, { kind: "delete", key: "a.test" });
    expect(contents(rules)).toEqual({ "b.test": ["empty", { code: 202 }, false] });
  });

  test("replace swaps in the whole set", () => {
    const rules = table({ "old.test": ["empty", { code: 201 }, false] });
    applyChange(rules, {
      kind: "replace",
      rules: {
        "new.test": ["empty", { code: 204 }, true],
        "http://p.test": ["static", { type: "test" }, false],
      },
    });
    expect(contents(rules)).toEqual({
      "new.test": ["empty", { code: 204 }, true],
      "http://p.test": ["static", { type: "test" }, false],
    });
  });

  test("a set that does not parse replaces nothing", () => {
    const rules = table({ "old.test": ["empty", { code: 201 }, false] });
    applyChange(rules, {
      kind: "replace",
      rules: {
        "new.test": ["empty", { code: 204 }, true],
        "bad.test": ["nope", {}, false] as unknown as RuleTriple,
      },
    });
    expect(contents(rules)).toEqual({ "old.test": ["empty", { code: 201 }, false] });
  });
});

/** A worker process started as the primary starts one, spoken to over IPC directly. */
function startWorker() {
  const inbox: FromWorker[] = [];
  let wake: (() => void) | null = null;
  const child: Subprocess = Bun.spawn([process.execPath, `${SRC}/main.ts`], {
    env: { ...process.env, [WORKER_ENV]: "1" },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "ignore",
    serialization: "json",
    ipc(message: FromWorker) {
      inbox.push(message);
      wake?.();
    },
  });
  return {
    child,
    send: (message: ToWorker) => child.send(message),
    async next(): Promise<FromWorker> {
      while (inbox.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      return inbox.shift()!;
    },
  };
}

describe("a worker process", () => {
  let folder: string;
  let config: Config;

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), "mantrid-worker-"));
    config = {
      ...DEFAULTS,
      bind: [parseAddress("127.0.0.1:0")],
      bindInternal: [],
      bindManagement: [],
      stateFile: join(folder, "state.json"),
      staticDir: folder,
    };
  });
  afterAll(() => rm(folder, { recursive: true, force: true }));

  async function status(port: number, host: string): Promise<number> {
    const connection = await connect(port);
    connection.send(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    return parseResponses(await connection.closed)[0]?.status ?? 0;
  }

  test("serves its start rules, applies changes, reports counters, and stops when told", async () => {
    const worker = startWorker();
    try {
      worker.send({ type: "start", config, rules: { "a.test": ["empty", { code: 201 }, false] } });
      const ready = await worker.next();
      expect(ready.type).toBe("ready");
      const port = ready.type === "ready" ? ready.ports.bind[0]! : 0;
      expect(port).toBeGreaterThan(0);
      expect(await status(port, "a.test")).toBe(201);

      worker.send({
        type: "changes",
        id: 7,
        changes: [
          { kind: "set", key: "b.test", rule: ["empty", { code: 202 }, false] },
          { kind: "delete", key: "a.test" },
        ],
      });
      expect(await worker.next()).toEqual({ type: "applied", id: 7 });
      expect(await status(port, "b.test")).toBe(202);
      expect(await status(port, "a.test")).not.toBe(201);

      worker.send({ type: "stats", id: 8 });
      const stats = await worker.next();
      expect(stats).toMatchObject({
        type: "stats",
        id: 8,
        stats: {
          "a.test": { open_requests: 0, completed_requests: 1 },
          "b.test": { open_requests: 0, completed_requests: 1 },
        },
      });

      worker.send({ type: "stop", id: 9, graceSeconds: 1 });
      expect(await worker.next()).toMatchObject({ type: "stats", id: 9 });
      // It leaves once its primary lets go.
      worker.child.disconnect();
      expect(await worker.child.exited).toBe(0);
    } finally {
      worker.child.kill("SIGKILL");
    }
  });

  test("a start that fails says why and exits 1", async () => {
    const worker = startWorker();
    try {
      // An address that is not this host's cannot be bound.
      worker.send({
        type: "start",
        config: { ...config, bind: [parseAddress("192.0.2.1:1")] },
        rules: {},
      });
      const failed = await worker.next();
      expect(failed.type).toBe("failed");
      expect(failed.type === "failed" && failed.message.length).toBeGreaterThan(0);
      expect(await worker.child.exited).toBe(1);
    } finally {
      worker.child.kill("SIGKILL");
    }
  });
});
