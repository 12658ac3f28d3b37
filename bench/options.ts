/** The benchmark's command line. */
import { parseArgs } from "node:util";

export interface BenchOptions {
  quick: boolean;
  hosts?: number;
  /** `--idle N`: memory per idle keep-alive connection, N connections. */
  idle?: number;
  /** `--metrics-cost`: Mantrid's CPU per request with metrics on and off, in turns. */
  metricsCost: boolean;
  /** `--tls`: TLS termination against HAProxy's; handshakes with one certificate and with many. */
  tls: boolean;
  /** Certificates of the many-certificate listener of `--tls` (default 10,000). */
  tlsCertificates: number;
  workers?: number;
  rounds: number;
  durationSeconds: number;
  warmupSeconds: number;
  threads: number;
  connections: number;
  /** Scenario names to run (all when absent). */
  scenarios?: string[];
  /** Targets to run (all when absent): direct, haproxy, nginx, mantrid. */
  targets?: string[];
  /** Use the built-in load loop even where wrk is installed. */
  builtinLoad: boolean;
  help: boolean;
}

export const USAGE = `bun run bench [options]      (bun bench/run.ts)

  (no flag)          full run: nginx backend; direct, HAProxy, nginx and Mantrid;
                     five wrk scenarios in alternating rounds; one table
  --quick            a few seconds, Mantrid only, Bun backend, no haproxy/nginx
                     needed (wrk if installed, else a built-in load loop)
  --hosts N          Mantrid with N hostnames: load time, RSS, state-file size,
                     one PUT, req/s among them vs a table of 10
  --idle N           HAProxy and Mantrid each holding N idle keep-alive client
                     connections: RSS before and after, KiB per connection
  --metrics-cost     Mantrid with metrics on and with metrics = false, in turns
                     under keep-alive load: CPU µs per request of each, ratio
  --tls              TLS termination, Mantrid against HAProxy with the same
                     certificate: keep-alive small and 100 KiB, a new connection
                     per request (full handshake, resumed) for RSA-2048 and
                     ECDSA P-256, and handshakes with 10,000 certificates vs one
  --tls-certs N      certificates of the many-certificate listener (default 10000)
  --workers N        pass --workers N to Mantrid
  --rounds N         rounds of the full run, --hosts and --metrics-cost (default 5)
  --duration S       seconds per load run (default 5; --quick: 3)
  --warmup S         seconds of warm-up per scenario and target (default 1; 0 for none)
  --threads N        wrk threads (default 1)
  --connections N    concurrent connections (default 50)
  --scenarios a,b    only these: keepalive-small, close-small, keepalive-100k,
                     upload-1m, post-1k
  --targets a,b      only these: direct, haproxy, nginx, mantrid; also bun-pipe
                     (bytes piped by Bun.listen, nothing parsed: a yardstick) and
                     mantrid-balanced (four backends, least_conn, health checks);
                     with --tls, tls-pipe adds bench/tls-pipe.ts to the keep-alive
                     loads, TLS ended by node:tls and by Bun.listen (yardsticks)
  --builtin-load     use the built-in load loop instead of wrk
`;

function positiveInteger(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`--${name} needs a positive whole number, not "${text}"`);
  }
  return value;
}

function nonNegative(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) {
    throw new Error(`--${name} needs a number of seconds, not "${text}"`);
  }
  return value;
}

function list(text: string | undefined): string[] | undefined {
  return text
    ?.split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: "boolean" },
      hosts: { type: "string" },
      idle: { type: "string" },
      "metrics-cost": { type: "boolean" },
      tls: { type: "boolean" },
      "tls-certs": { type: "string" },
      workers: { type: "string" },
      rounds: { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      threads: { type: "string" },
      connections: { type: "string" },
      scenarios: { type: "string" },
      targets: { type: "string" },
      "builtin-load": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const quick = values.quick === true;
  const metricsCost = values["metrics-cost"] === true;
  const tls = values.tls === true;
  const modes = [quick, values.hosts !== undefined, values.idle !== undefined, metricsCost, tls];
  if (modes.filter(Boolean).length > 1) {
    throw new Error(
      "--quick, --hosts, --idle, --metrics-cost and --tls are separate modes: give one",
    );
  }
  const duration = nonNegative("duration", values.duration) ?? (quick ? 3 : 5);
  if (duration < 1) throw new Error("--duration must be at least 1 second");
  return {
    quick,
    hosts: positiveInteger("hosts", values.hosts),
    idle: positiveInteger("idle", values.idle),
    metricsCost,
    tls,
    tlsCertificates: positiveInteger("tls-certs", values["tls-certs"]) ?? 10_000,
    workers: positiveInteger("workers", values.workers),
    rounds: positiveInteger("rounds", values.rounds) ?? 5,
    durationSeconds: Math.round(duration),
    warmupSeconds: Math.round(nonNegative("warmup", values.warmup) ?? (quick ? 0 : 1)),
    threads: positiveInteger("threads", values.threads) ?? 1,
    connections: positiveInteger("connections", values.connections) ?? 50,
    scenarios: list(values.scenarios),
    targets: list(values.targets),
    builtinLoad: values["builtin-load"] === true,
    help: values.help === true,
  };
}
