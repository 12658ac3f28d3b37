/**
 * What a pending tls-alpn-01 check costs a `bind_tls` listener: while one is
 * pending the listener serves through the hello door (each ClientHello read
 * in JS, then TLS over a replayed stream) instead of native `node:tls`. Two
 * listeners in processes of their own (bench/tls-alpn-door-target.ts), one
 * with a check pending for another name and one without, the same
 * certificate (ECDSA P-256) and rule in front of the same backend, take
 * turns under the loads of `--tls`: wrk over keep-alive connections (6 bytes
 * and 100 KiB), and a new connection per request (bench/tls-handshakes.ts),
 * every handshake full or resumed. Rounds alternate which goes first; each
 * load runs in its own process, so a listener's CPU time is its own.
 *
 *   bun bench/tls-alpn-door.ts [--rounds 5] [--duration 5] [--warmup 1]
 *     [--connections 50] [--threads 1] [--scenarios tls-keepalive-small,...]
 */
import { rmSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { parseArgs } from "node:util";
import { parseOptions } from "./options.ts";
import { BENCH_HOST, findTool, startBunBackend, startNginxBackend } from "./peers.ts";
import {
  installSignalCleanup,
  isStopping,
  onCleanup,
  spawnTracked,
  stopAll,
  watchStderr,
} from "./processes.ts";
import type { LoadResult } from "./result.ts";
import { progress, rotate } from "./rounds.ts";
import { DOOR, formatReport, NATIVE, type Runs } from "./tls-alpn-door-report.ts";
import { type BenchCertificates, makeBenchCertificates } from "./tls-certs.ts";
import { measure, resumedCounts, type TlsTarget } from "./tls-load.ts";
import { checkTlsTarget, TLS_SCENARIOS } from "./tls-scenarios.ts";
import { findWrk } from "./wrk.ts";

/** The loads of `--tls` on the ECDSA certificate (bench/tls-scenarios.ts). */
const SCENARIO_NAMES = [
  "tls-keepalive-small",
  "tls-keepalive-100k",
  "tls-new-ec-full",
  "tls-new-ec-resumed",
];

const USAGE = `bun bench/tls-alpn-door.ts [options]

  the hello door of a pending tls-alpn-01 check against the native TLS listener

  --rounds N         rounds, alternating which listener goes first (default 5)
  --duration S       seconds per load run (default 5)
  --warmup S         seconds of warm-up per load and listener (default 1; 0 for none)
  --connections N    concurrent connections (default 50)
  --threads N        wrk threads (default 1)
  --scenarios a,b    only these: ${SCENARIO_NAMES.join(", ")}
`;

/** The name whose check stays pending in the door's process; no load asks for it. */
const PENDING_NAME = "other.test";

interface DoorOptions {
  rounds: number;
  durationSeconds: number;
  warmupSeconds: number;
  connections: number;
  threads: number;
  scenarios: string[];
}

function whole(name: string, text: string | undefined, fallback: number, least: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < least) {
    throw new Error(`--${name} needs a whole number of at least ${least}, not "${text}"`);
  }
  return value;
}

function parseDoorOptions(argv: string[]): DoorOptions | "help" {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      rounds: { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      connections: { type: "string" },
      threads: { type: "string" },
      scenarios: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) return "help";
  const scenarios = values.scenarios?.split(",").map((name) => name.trim()) ?? SCENARIO_NAMES;
  const unknown = scenarios.filter((name) => !SCENARIO_NAMES.includes(name));
  if (unknown.length > 0) throw new Error(`--scenarios: no scenario ${unknown.join(", ")}`);
  return {
    rounds: whole("rounds", values.rounds, 5, 1),
    durationSeconds: whole("duration", values.duration, 5, 1),
    warmupSeconds: whole("warmup", values.warmup, 1, 0),
    connections: whole("connections", values.connections, 50, 1),
    threads: whole("threads", values.threads, 1, 1),
    scenarios,
  };
}

/** One listener of the comparison, in its own process. */
async function startListener(
  mode: typeof NATIVE | typeof DOOR,
  dir: string,
  certificates: BenchCertificates,
  backendPort: number,
): Promise<TlsTarget> {
  const staticDir = join(dir, `static-${mode}`);
  await mkdir(staticDir, { recursive: true });
  const script = join(import.meta.dir, "tls-alpn-door-target.ts");
  const child = spawnTracked(`listener-${mode}`, [process.execPath, script], {
    env: {
      ...process.env,
      ALPN_DOOR_MODE: mode,
      ALPN_DOOR_PEM: certificates.files.ec,
      ALPN_DOOR_BACKEND: String(backendPort),
      ALPN_DOOR_STATIC: staticDir,
      ALPN_DOOR_PENDING: PENDING_NAME,
    },
  });
  const log = watchStderr(child.stderr as ReadableStream<Uint8Array>, `listener-${mode}`);
  const port = Number((await log.match(/listening on [^\s]+:(\d+)/))[1]);
  return { name: mode, port, pid: child.pid, namesFile: certificates.oneName };
}

/** The ALPN protocol a handshake for `name` offering only `acme-tls/1` gets; null: refused. */
function acmeHandshake(port: number, name: string): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: "127.0.0.1",
      port,
      servername: name,
      ALPNProtocols: ["acme-tls/1"],
      rejectUnauthorized: false,
    });
    const limit = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no TLS handshake on port ${port} within 10 s`));
    }, 10_000);
    socket.once("secureConnect", () => {
      clearTimeout(limit);
      resolve(socket.alpnProtocol || null);
      socket.destroy();
    });
    socket.once("error", () => {
      clearTimeout(limit);
      resolve(null);
    });
  });
}

/** Throws unless the door answers the pending check and the native listener refuses it. */
async function checkDoors(native: TlsTarget, door: TlsTarget, when: string): Promise<void> {
  const fromDoor = await acmeHandshake(door.port, PENDING_NAME);
  const fromNative = await acmeHandshake(native.port, PENDING_NAME);
  if (fromDoor !== "acme-tls/1" || fromNative !== null) {
    throw new Error(
      `${when}: a tls-alpn-01 handshake for ${PENDING_NAME} got ${fromDoor} from the door` +
        ` (acme-tls/1 expected) and ${fromNative} from the native listener (a refusal expected)`,
    );
  }
  progress(`# ${when}: the door answers the pending check, the native listener refuses it`);
}

async function run(options: DoorOptions, dir: string): Promise<number> {
  const wrk = findWrk();
  if (wrk === undefined) throw new Error("wrk is not installed (apt-get install -y wrk)");
  const scenarios = TLS_SCENARIOS(1).filter((scenario) =>
    options.scenarios.includes(scenario.name),
  );
  const certificates = await makeBenchCertificates(dir, BENCH_HOST, 1);
  const nginx = findTool("nginx") !== undefined;
  const backend = nginx ? await startNginxBackend(dir) : await startBunBackend();
  const native = await startListener(NATIVE, dir, certificates, backend.port);
  const door = await startListener(DOOR, dir, certificates, backend.port);
  await checkDoors(native, door, "before the load");
  for (const scenario of scenarios) {
    for (const target of [native, door]) await checkTlsTarget(target.port, scenario);
  }
  // measure() reads the load's shape (threads, connections) from the bench's options.
  const loadOptions = {
    ...parseOptions([]),
    threads: options.threads,
    connections: options.connections,
  };
  const cores = `${cpus().length} cores (${cpus()[0]?.model ?? "?"})`;
  console.log(
    [
      `# date: ${new Date().toISOString()}`,
      `# machine: ${cores}, load average ${loadavg()[0]!.toFixed(2)}`,
      `# bun: ${Bun.version}`,
      `# backend: ${nginx ? "nginx" : "Bun (bench/bun-backend.ts)"}`,
      `# load: keep-alive: wrk -t${options.threads} -c${options.connections}; new connections: bench/tls-handshakes.ts, ${options.connections} at a time; ${options.durationSeconds} s per run, ${options.rounds} rounds, ${options.warmupSeconds} s warm-up`,
      `# listeners: native, and door (a tls-alpn-01 check pending for ${PENDING_NAME})`,
    ].join("\n"),
  );
  if (options.warmupSeconds > 0) {
    for (const scenario of scenarios) {
      for (const target of [native, door]) {
        await measure(scenario, target, loadOptions, options.warmupSeconds, wrk);
      }
    }
    resumedCounts.clear();
  }

  const runs: Runs = new Map(
    scenarios.map((scenario) => [scenario.name, { native: [], door: [] }]),
  );
  for (let round = 0; round < options.rounds; round++) {
    for (const scenario of scenarios) {
      for (const target of rotate([native, door], round)) {
        const result: LoadResult = await measure(
          scenario,
          target,
          loadOptions,
          options.durationSeconds,
          wrk,
        );
        runs.get(scenario.name)![target.name as typeof NATIVE | typeof DOOR].push(result);
        progress(
          `round ${round + 1}/${options.rounds}  ${scenario.name.padEnd(20)} ${target.name.padEnd(6)}` +
            ` ${result.requestsPerSecond.toFixed(0).padStart(7)} req/s` +
            ` ${result.cpuPerRequestUs.toFixed(1).padStart(7)} µs/req` +
            (result.errors > 0 ? `  ${result.errors} errors` : ""),
        );
      }
    }
  }
  await checkDoors(native, door, "after the load");

  console.log("");
  console.log(formatReport(runs, resumedCounts));
  console.log(`# load average at the end: ${loadavg()[0]!.toFixed(2)}`);
  const failed = [...runs.values()].some(({ native, door }) =>
    [...native, ...door].some((run) => run.requests === 0 || run.errors > 0),
  );
  if (failed) {
    console.error("a listener served no requests, or answered with errors, in some run");
    return 1;
  }
  return 0;
}

async function main(argv: string[]): Promise<number> {
  let options: DoorOptions | "help";
  try {
    options = parseDoorOptions(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options === "help") {
    console.log(USAGE);
    return 0;
  }
  installSignalCleanup();
  const dir = await mkdtemp(join(tmpdir(), "mantrid-alpn-door-"));
  // nginx workers may run as another user; they read files in here.
  await chmod(dir, 0o755);
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  try {
    return await run(options, dir);
  } catch (error) {
    if (!isStopping()) console.error(`bench failed: ${(error as Error).message}`);
    return 1;
  } finally {
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main(process.argv.slice(2));
