/**
 * `--tls`: TLS termination, Mantrid's `bind_tls` against HAProxy's `bind ...
 * ssl crt` with the same certificate, both in front of the nginx backend.
 * Keep-alive loads (wrk over https) for a small and a 100 KiB answer; a new
 * connection per request with a full handshake and with the session resumed
 * (bench/tls-handshakes.ts), for an RSA-2048 and an ECDSA P-256 certificate;
 * and full handshakes on a Mantrid holding many certificates, SNI going
 * through all of them, against one holding one. Rounds rotate the order of
 * the targets, as in the full run; each row's CPU per request is the target's
 * own (from /proc), so it holds even though the load shares the cores.
 */
import type { KeyKind } from "../test/support/certificates.ts";
import { describeRun } from "./describe.ts";
import type { BenchOptions } from "./options.ts";
import {
  BENCH_HOST,
  findTool,
  proxyRule,
  putRule,
  startHaproxy,
  startMantrid,
  startNginxBackend,
  startTlsPipe,
} from "./peers.ts";
import { freePort } from "./ports.ts";
import { type LoadResult, median } from "./result.ts";
import { progress, rotate } from "./rounds.ts";
import { memoryOf } from "./rss.ts";
import { formatTable, type Row, summarize } from "./table.ts";
import { type BenchCertificates, makeBenchCertificates } from "./tls-certs.ts";
import { firstHandshakes, MANY, measure, resumedCounts, type TlsTarget } from "./tls-load.ts";
import { checkTlsTarget, TLS_SCENARIOS, type TlsScenario } from "./tls-scenarios.ts";
import { findWrk } from "./wrk.ts";

interface Listeners {
  haproxy: { pid: number; ports: Record<KeyKind, number> };
  mantrid: Record<
    KeyKind | "many",
    { pid: number; port: number; startSeconds: number; startMiB: number }
  >;
  /** `--targets tls-pipe`: bench/tls-pipe.ts through node:tls and through Bun.listen. */
  pipes: TlsTarget[];
}

/** The yardsticks of `--targets tls-pipe`, named by how they terminate TLS. */
const PIPES = [
  ["tls-pipe", "node"],
  ["tls-pipe-bun", "bun"],
] as const;

async function startTargets(
  options: BenchOptions,
  dir: string,
  certificates: BenchCertificates,
): Promise<Listeners> {
  const backend = await startNginxBackend(dir);
  const ports = { ec: freePort(), rsa: freePort() };
  const haproxy = await startHaproxy(dir, backend.port, undefined, [
    { port: ports.ec, crt: certificates.files.ec },
    { port: ports.rsa, crt: certificates.files.rsa },
  ]);
  const folders = { ...certificates.folders, many: certificates.manyFolder };
  const mantrid = {} as Listeners["mantrid"];
  for (const which of ["ec", "rsa", "many"] as const) {
    const port = freePort();
    const started = performance.now();
    const peer = await startMantrid(dir, {
      folder: `mantrid-${which}`,
      workers: options.workers,
      settings: [`cert_dir = ${folders[which]}`, `tls_default = ${BENCH_HOST}`],
      flags: ["--bind-tls", `127.0.0.1:${port}`],
      // Every certificate is read and checked before the listeners open.
      startTimeoutMs: 600_000,
    });
    await putRule(peer.api, BENCH_HOST, proxyRule(backend.port));
    const startSeconds = (performance.now() - started) / 1000;
    // Before any handshake: what holding the certificates costs, no TLS context built yet.
    const startMiB = memoryOf(peer.pid).rss / 2 ** 20;
    mantrid[which] = { pid: peer.pid, port, startSeconds, startMiB };
  }
  const pipes: TlsTarget[] = [];
  if (options.targets?.includes("tls-pipe")) {
    for (const [name, mode] of PIPES) {
      const pipe = await startTlsPipe(mode, backend.port, certificates.files.ec);
      pipes.push({ name, port: pipe.port, pid: pipe.pid, namesFile: certificates.oneName });
    }
  }
  return { haproxy: { pid: haproxy.pid, ports }, mantrid, pipes };
}

/** The targets a scenario sets side by side: the first two give the ratios, yardsticks follow. */
function targetsOf(
  scenario: TlsScenario,
  listeners: Listeners,
  certificates: BenchCertificates,
): TlsTarget[] {
  const one = certificates.oneName;
  const { haproxy, mantrid } = listeners;
  if (scenario.versus === "many") {
    return [
      { name: "mantrid", port: mantrid.ec.port, pid: mantrid.ec.pid, namesFile: one },
      {
        name: MANY,
        port: mantrid.many.port,
        pid: mantrid.many.pid,
        namesFile: certificates.manyNames,
      },
    ];
  }
  const kind = scenario.kind;
  return [
    { name: "haproxy", port: haproxy.ports[kind], pid: haproxy.pid, namesFile: one },
    { name: "mantrid", port: mantrid[kind].port, pid: mantrid[kind].pid, namesFile: one },
    // The pipes serve the ECDSA certificate; a new connection would measure its handshake alone.
    ...(scenario.load === "wrk" && kind === "ec" ? listeners.pipes : []),
  ];
}

export async function runTls(options: BenchOptions, dir: string): Promise<number> {
  for (const tool of ["haproxy", "nginx", "wrk"]) {
    if (findTool(tool) === undefined) {
      throw new Error(`${tool} is not installed (apt-get install -y haproxy nginx wrk)`);
    }
  }
  const wrk = findWrk()!;
  const count = options.tlsCertificates;
  const scenarios = TLS_SCENARIOS(count).filter(
    (scenario) => options.scenarios === undefined || options.scenarios.includes(scenario.name),
  );
  const certificates = await makeBenchCertificates(dir, BENCH_HOST, count);
  const listeners = await startTargets(options, dir, certificates);
  console.log(
    describeRun(["haproxy", "nginx", "wrk"], {
      mode: `--tls (bind_tls against HAProxy's ssl crt; ${count} certificates against one)`,
      load: `keep-alive: wrk -t${options.threads} -c${options.connections}; new connections: bench/tls-handshakes.ts, ${options.connections} at a time; ${options.durationSeconds} s per run, ${options.rounds} rounds (median), ${options.warmupSeconds} s warm-up`,
      mantrid: options.workers === undefined ? "default workers" : `--workers ${options.workers}`,
    }),
  );
  const plan = scenarios.map((scenario) => ({
    scenario,
    targets: targetsOf(scenario, listeners, certificates),
  }));
  for (const { scenario, targets } of plan) {
    for (const target of targets) await checkTlsTarget(target.port, scenario);
  }
  progress("# every target answers every scenario correctly");
  // A name's context is built on its first handshake: once through every name, measured
  // apart, so the rounds measure a listener whose names have all been asked for.
  const manyTarget = plan.flatMap(({ targets }) => targets).find((t) => t.name === MANY);
  let firsts: LoadResult | null = null;
  if (manyTarget !== undefined) {
    // Warmed on the one name first, so that the pass through every name measures what is
    // new there (each name's context), not the first seconds of the JIT.
    const many = plan.find(({ scenario }) => scenario.versus === "many")!.scenario;
    const warm = { ...manyTarget, namesFile: certificates.oneName };
    await measure(many, warm, options, Math.max(1, options.warmupSeconds), wrk);
    resumedCounts.clear();
    firsts = await firstHandshakes(manyTarget, count);
  }
  if (options.warmupSeconds > 0) {
    for (const { scenario, targets } of plan) {
      for (const target of targets)
        await measure(scenario, target, options, options.warmupSeconds, wrk);
    }
    resumedCounts.clear();
  }

  const runs = new Map<string, LoadResult[]>();
  for (let round = 0; round < options.rounds; round++) {
    for (const { scenario, targets } of plan) {
      for (const target of rotate(targets, round)) {
        const result = await measure(scenario, target, options, options.durationSeconds, wrk);
        const key = `${scenario.name} ${target.name}`;
        runs.set(key, [...(runs.get(key) ?? []), result]);
        progress(
          `round ${round + 1}/${options.rounds}  ${scenario.name.padEnd(22)} ${target.name.padEnd(12)}` +
            ` ${result.requestsPerSecond.toFixed(0).padStart(7)} req/s` +
            ` ${result.cpuPerRequestUs.toFixed(1).padStart(7)} µs/req` +
            (result.errors > 0 ? `  ${result.errors} errors` : ""),
        );
      }
    }
  }

  const rows: Row[] = plan.flatMap(({ scenario, targets }) =>
    targets.map((target) =>
      summarize(scenario, target.name, runs.get(`${scenario.name} ${target.name}`) ?? []),
    ),
  );
  console.log("");
  console.log(formatTable(rows));
  console.log("");
  console.log(formatTlsLines(plan, runs));
  if (firsts !== null) {
    console.log(
      `tls-many-first ${count} names, each once: ${firsts.requestsPerSecond.toFixed(0)} handshakes/s,` +
        ` ${firsts.cpuPerRequestUs.toFixed(0)} µs CPU each, ${firsts.errors} errors`,
    );
  }
  // What holding the certificates costs: start-up (reading and checking them) and memory.
  for (const which of ["ec", "many"] as const) {
    const { pid, startSeconds, startMiB } = listeners.mantrid[which];
    const certs = which === "many" ? count : 1;
    const mib = (memoryOf(pid).rss / 2 ** 20).toFixed(1);
    console.log(
      `tls-certificates ${certs} start ${startSeconds.toFixed(2)} s rss ${startMiB.toFixed(1)} MiB` +
        ` at start, ${mib} MiB after the load`,
    );
  }
  const failed = rows.some((row) => !(row.requestsPerSecond > 0) || row.errors > 0);
  if (failed) {
    console.error("a target served no requests, or answered with errors, in some scenario");
    return 1;
  }
  return 0;
}

/**
 * Greppable lines, each the second target of a scenario over its first, as
 * medians of the ratios within each round (the two ran one after the other, so
 * the machine's drift falls on both): `tls-ratio <scenario> req/s <m/h> cpu
 * <m/h> (cpu rounds <low> to <high>)`, `tls-many` the same for many
 * certificates over one; then how many connections were resumed.
 */
function formatTlsLines(
  plan: { scenario: TlsScenario; targets: TlsTarget[] }[],
  runs: Map<string, LoadResult[]>,
): string {
  const lines: string[] = [];
  for (const { scenario, targets } of plan) {
    const [base, other] = targets.map(
      (target) => runs.get(`${scenario.name} ${target.name}`) ?? [],
    );
    const paired = (measure: (run: LoadResult) => number) =>
      other!.map((run, round) => measure(run) / measure(base![round]!)).filter(Number.isFinite);
    const speed = paired((run) => run.requestsPerSecond);
    const cpu = paired((run) => run.cpuPerRequestUs);
    if (cpu.length === 0) continue;
    const label = scenario.versus === "many" ? "tls-many" : "tls-ratio";
    lines.push(
      `${label} ${scenario.name} req/s ${median(speed).toFixed(2)} cpu ${median(cpu).toFixed(2)}` +
        ` (cpu rounds ${Math.min(...cpu).toFixed(2)} to ${Math.max(...cpu).toFixed(2)})`,
    );
  }
  for (const [key, { resumed, connections }] of resumedCounts) {
    lines.push(`tls-resumed ${key} ${resumed} of ${connections}`);
  }
  return lines.join("\n");
}
