/**
 * `bun bench/bulk-put.ts [--rules N] [--runs R]`: one `PUT /hostname/` that
 * replaces the whole rule set with N rules (a million by default, about 66 MB
 * of JSON), R times.
 *
 * End to end: `mantrid serve` from source in a child process, on port 0 and a
 * temp state file; each PUT is timed from request sent to response received,
 * then checked live (a request through the proxy reaches the new rule's
 * backend) and durable (the state file ends with the last hostname and its
 * rule). Rules alternate between two backends, so each PUT changes them all.
 *
 * By phase: the same PUTs on a management server in this process with a clock
 * on each step, and the steps that can run alone (bulk-put-phases.ts).
 * Prints every run and the median of each figure.
 */
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { restartWithAllocatorTuning } from "../src/system/allocator.ts";
import {
  ALONE_PHASES,
  type Phases,
  PUT_PHASES,
  startPhaseServer,
  timeAlone,
} from "./bulk-put-phases.ts";
import { cpuSecondsOf } from "./cpu-time.ts";
import { hostName, ruleSetJson } from "./host-set.ts";
import {
  installSignalCleanup,
  spawnTracked,
  stopAll,
  stopTracked,
  watchStderr,
} from "./processes.ts";
import { median } from "./result.ts";
import { memoryOf } from "./rss.ts";

const ROOT = resolve(import.meta.dir, "..");

interface Backend {
  name: string;
  port: number;
  stop(): void;
}

/** A backend that answers its own name, so a request shows which rule routed it. */
function startBackend(name: string): Backend {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(name) });
  return { name, port: server.port!, stop: () => server.stop(true) };
}

function bodyFor(count: number, backend: Backend): Uint8Array<ArrayBuffer> {
  return Buffer.from(
    ruleSetJson(count, ["proxy", { backends: [`127.0.0.1:${backend.port}`] }, false]),
  );
}

interface Server {
  api: string;
  traffic: number;
  pid: number;
  stop(): Promise<void>;
}

async function startServer(stateFile: string, folder: string): Promise<Server> {
  const argv = [process.execPath, join(ROOT, "src/main.ts"), "serve"];
  argv.push("--bind", "127.0.0.1:0", "--management", "127.0.0.1:0");
  argv.push("--state-file", stateFile, "--static-dir", folder);
  const child = spawnTracked("mantrid", argv, { cwd: folder });
  const log = watchStderr(child.stderr as ReadableStream<Uint8Array>, "mantrid");
  const listening = await log.match(/listening on [^\s]+:(\d+)/);
  const management = await log.match(/management API on (http:\/\/[^\s]+?)\/?(\s|$)/);
  return {
    api: management[1]!,
    traffic: Number(listening[1]),
    pid: child.pid,
    stop: () => stopTracked(child),
  };
}

/** The last bytes of a file. */
async function tailOf(path: string, bytes: number): Promise<string> {
  const file = await open(path, "r");
  try {
    const { size } = await file.stat();
    const buffer = Buffer.alloc(Math.min(bytes, size));
    await file.read(buffer, 0, buffer.length, size - buffer.length);
    return buffer.toString();
  } finally {
    await file.close();
  }
}

/** Throws unless the last hostname is routed to `backend`, and is the state file's last rule. */
async function checkLiveAndDurable(
  server: Server,
  stateFile: string,
  count: number,
  backend: Backend,
): Promise<void> {
  const last = hostName(count - 1);
  const response = await fetch(`http://127.0.0.1:${server.traffic}/`, { headers: { host: last } });
  const answer = await response.text();
  if (answer !== backend.name) throw new Error(`${last} reached "${answer}", not ${backend.name}`);
  const expected = `"${last}":["proxy",{"backends":[["127.0.0.1",${backend.port}]]`;
  if (!(await tailOf(stateFile, 300)).includes(expected)) {
    throw new Error(`the state file does not end with ${expected}`);
  }
}

function ms(value: number): string {
  return value.toFixed(0).padStart(6);
}

function printRuns(title: string, names: readonly string[], runs: Phases[]): void {
  console.log(`\n${title}`);
  console.log(`${"".padEnd(16)}${runs.map((_, i) => `run ${i + 1}`.padStart(8)).join("")}  median`);
  for (const name of names) {
    const values = runs.map((run) => run[name]!);
    console.log(
      `${name.padEnd(16)}${values.map((value) => `  ${ms(value)}`).join("")}  ${ms(median(values))}`,
    );
  }
}

async function main(): Promise<void> {
  // The allocator tuning `mantrid serve` starts with, for the servers run in this process too.
  restartWithAllocatorTuning(process.argv.slice(2));
  const { values } = parseArgs({
    options: {
      rules: { type: "string", default: "1000000" },
      runs: { type: "string", default: "5" },
    },
  });
  const count = Number(values.rules);
  const runs = Number(values.runs);
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(runs) || runs < 1) {
    throw new Error("--rules and --runs take whole numbers of 1 or more");
  }
  installSignalCleanup();
  const folder = await mkdtemp(join(tmpdir(), "mantrid-bulk-put-"));
  const backends = [startBackend("a"), startBackend("b")];
  try {
    const bodies = backends.map((backend) => bodyFor(count, backend));
    console.log(`${count} rules, ${(bodies[0]!.length / 1e6).toFixed(1)} MB per PUT, ${runs} runs`);

    const stateFile = join(folder, "state.json");
    const server = await startServer(stateFile, folder);
    const endToEnd: Phases[] = [];
    for (let run = 0; run < runs; run++) {
      const backend = backends[run % 2]!;
      const cpuBefore = cpuSecondsOf(server.pid);
      const started = performance.now();
      const response = await fetch(`${server.api}/hostname/`, {
        method: "PUT",
        body: bodies[run % 2]!,
      });
      const answer = await response.text();
      const put = performance.now() - started;
      const cpu = (cpuSecondsOf(server.pid) - cpuBefore) * 1000;
      if (response.status !== 200) throw new Error(`PUT answered ${response.status}: ${answer}`);
      await checkLiveAndDurable(server, stateFile, count, backend);
      const memory = memoryOf(server.pid);
      const size = (await stat(stateFile)).size;
      endToEnd.push({
        PUT: put,
        "server CPU": cpu,
        "RSS MB": memory.rss / 1e6,
        "peak RSS MB": memory.peak / 1e6,
        "state MB": size / 1e6,
      });
    }
    await server.stop();
    printRuns(
      "end to end, mantrid serve (ms)",
      ["PUT", "server CPU", "RSS MB", "peak RSS MB", "state MB"],
      endToEnd,
    );

    const phases = await startPhaseServer();
    const byPhase: Phases[] = [];
    try {
      for (let run = 0; run < runs; run++) byPhase.push(await phases.put(bodies[run % 2]!));
    } finally {
      await phases.close();
    }
    printRuns("by phase, in process (ms)", PUT_PHASES, byPhase);

    const alone: Phases[] = [];
    for (let run = 0; run < runs; run++) alone.push(await timeAlone(bodies[run % 2]!, folder));
    printRuns("steps alone (ms)", ALONE_PHASES, alone);
  } finally {
    for (const backend of backends) backend.stop();
    await stopAll();
    await rm(folder, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (error) {
  console.error(`bulk-put: ${(error as Error).message}`);
  process.exitCode = 1;
}
