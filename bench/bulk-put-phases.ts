/**
 * `bulk-put.ts`, phase by phase: a management server in this process, built as
 * `mantrid serve` builds it (real state store, real registry), with a clock
 * on each step of one `PUT /hostname/`; and the steps that can run alone,
 * timed alone.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ruleCheck } from "../src/actions/compile.ts";
import { createManagementApp, DEFAULT_BODY_LIMIT } from "../src/management/app.ts";
import { RuleRegistry } from "../src/rules/registry.ts";
import { RuleSetStream } from "../src/rules/rule-set-json.ts";
import type { RuleSet } from "../src/rules/schema.ts";
import { RuleTable } from "../src/rules/table.ts";
import { StatsBook } from "../src/stats/host-stats.ts";
import { writeFileDurably } from "../src/store/durable-write.ts";
import { serializeSnapshot } from "../src/store/snapshot.ts";
import { openStateStore } from "../src/store/state-log.ts";

export type Phases = Record<string, number>;

/** The phases of one PUT, in the order they happen; together they make `total`. */
export const PUT_PHASES = [
  "head", // request sent → handler called (the head has arrived)
  "receive+parse", // handler → rule set read and validated (body received meanwhile)
  "registry", // → the store asked to save (rules checked, change queued)
  "state file", // → snapshot encoded, written and fsynced
  "table", // → the new rules are live
  "answer", // → the response received
  "total",
] as const;

/** The steps timed alone, on the same body. */
export const ALONE_PHASES = [
  "receive only", // a server that only reads the body
  "parse only", // the body's text, in 64 KiB pieces, into a rule set
  "encode only", // the snapshot of that set
  "write only", // writing and fsyncing that snapshot
] as const;

class TimedTable extends RuleTable<null> {
  constructor(private readonly mark: (name: string) => void) {
    super(() => null);
  }

  override replaceAll(rules: RuleSet): void {
    this.mark("table start");
    super.replaceAll(rules);
    this.mark("table end");
  }
}

export interface PhaseServer {
  put(body: Uint8Array<ArrayBuffer>): Promise<Phases>;
  close(): Promise<void>;
}

/** A management server on a temp state file, timing each PUT's phases. */
export async function startPhaseServer(): Promise<PhaseServer> {
  const root = await mkdtemp(join(tmpdir(), "mantrid-bulk-put-"));
  await mkdir(join(root, "static"));
  const store = await openStateStore(join(root, "state.json"));
  const marks = new Map<string, number>();
  const mark = (name: string) => marks.set(name, performance.now());
  const registry = new RuleRegistry(
    new TimedTable(mark),
    new StatsBook(),
    async (changes, snapshot) => {
      mark("save start");
      await store.save(changes, snapshot);
      mark("save end");
    },
    store.loaded.hosts,
    null,
    ruleCheck(join(root, "static")),
  );
  const replaceAll = registry.replaceAll.bind(registry);
  registry.replaceAll = (rules) => {
    mark("parsed");
    return replaceAll(rules);
  };
  const app = createManagementApp({ registry, stats: new StatsBook() });
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    maxRequestBodySize: DEFAULT_BODY_LIMIT + 1024,
    fetch: (request) => {
      mark("handler");
      return app.fetch(request);
    },
  });
  return {
    async put(body) {
      marks.clear();
      mark("sent");
      const response = await fetch(`http://127.0.0.1:${server.port}/hostname/`, {
        method: "PUT",
        body,
      });
      const answer = await response.text();
      mark("answered");
      if (response.status !== 200) throw new Error(`PUT answered ${response.status}: ${answer}`);
      const at = (name: string) => {
        const time = marks.get(name);
        if (time === undefined) throw new Error(`no "${name}" mark`);
        return time;
      };
      return {
        head: at("handler") - at("sent"),
        "receive+parse": at("parsed") - at("handler"),
        registry: at("save start") - at("parsed"),
        "state file": at("save end") - at("save start"),
        table: at("table end") - at("table start"),
        answer: at("answered") - at("table end"),
        total: at("answered") - at("sent"),
      };
    },
    async close() {
      await server.stop(true);
      await store.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Time of `work`, in milliseconds. */
async function timed(work: () => unknown): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** The steps of a PUT that can run alone, on `body`. */
export async function timeAlone(body: Uint8Array<ArrayBuffer>, folder: string): Promise<Phases> {
  const drain = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    maxRequestBodySize: body.length + 1024,
    async fetch(request) {
      for await (const _ of request.body ?? []) {
        // Read and dropped.
      }
      return new Response("ok");
    },
  });
  const receive = await timed(async () => {
    const response = await fetch(`http://127.0.0.1:${drain.port}/`, { method: "PUT", body });
    await response.text();
  });
  await drain.stop(true);

  let rules: RuleSet | undefined;
  const parse = await timed(() => {
    const stream = new RuleSetStream();
    for (let at = 0; at < body.length; at += 65536) {
      stream.push(Buffer.from(body.subarray(at, at + 65536)).toString("latin1"));
    }
    const parsed = stream.end();
    if (parsed?.ok) rules = parsed.value;
  });
  if (rules === undefined) throw new Error("the body is not a valid rule set");

  const document = { hosts: rules, stats: {}, backends: {} };
  let parts: Uint8Array[] = [];
  const encode = await timed(async () => {
    parts = (await serializeSnapshot(document, "bench")).parts;
  });
  const write = await timed(() => writeFileDurably(join(folder, "alone.json"), parts));
  await rm(join(folder, "alone.json"), { force: true });
  return {
    "receive only": receive,
    "parse only": parse,
    "encode only": encode,
    "write only": write,
  };
}
