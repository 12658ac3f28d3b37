/** Runs wrk with `--latency` and reads req/s, p50/p99 and transfer/s from its report. */
import { findTool } from "./peers.ts";
import { spawnTracked, stopTracked } from "./processes.ts";
import type { LoadResult, LoadSpec } from "./result.ts";

export function findWrk(): string | undefined {
  return findTool("wrk");
}

const TIME_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_UNITS: Record<string, number> = {
  B: 1,
  KB: 1024,
  MB: 1024 ** 2,
  GB: 1024 ** 3,
  TB: 1024 ** 4,
};

/** "651.00us" → 0.651 (milliseconds). */
export function parseWrkTime(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!match) throw new Error(`unexpected wrk time "${text}"`);
  return Number(match[1]) * TIME_UNITS[match[2]!]!;
}

/** "1.23MB" → bytes (wrk's units are powers of 1024). */
export function parseWrkSize(text: string): number {
  const match = /^([\d.]+)(B|KB|MB|GB|TB)$/.exec(text.trim());
  if (!match) throw new Error(`unexpected wrk size "${text}"`);
  return Number(match[1]) * SIZE_UNITS[match[2]!]!;
}

/** Reads wrk's text report (run with `--latency`). */
export function parseWrkReport(report: string): LoadResult {
  const need = (pattern: RegExp, what: string): RegExpMatchArray => {
    const match = report.match(pattern);
    if (!match) throw new Error(`wrk report without ${what}:\n${report}`);
    return match;
  };
  const done = need(/(\d+) requests in ([\d.]+\w+),/, "a request count");
  const perSecond = need(/Requests\/sec:\s+([\d.]+)/, "Requests/sec");
  const transfer = need(/Transfer\/sec:\s+([\d.]+\w+)/, "Transfer/sec");
  const p50 = need(/^\s+50%\s+(\S+)/m, "a 50% latency");
  const p99 = need(/^\s+99%\s+(\S+)/m, "a 99% latency");
  let errors = Number(report.match(/Non-2xx or 3xx responses:\s+(\d+)/)?.[1] ?? 0);
  const socket = report.match(
    /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/,
  );
  if (socket) errors += socket.slice(1, 5).reduce((sum, count) => sum + Number(count), 0);
  return {
    requests: Number(done[1]),
    seconds: parseWrkTime(done[2]!) / 1000,
    requestsPerSecond: Number(perSecond[1]),
    p50Ms: parseWrkTime(p50[1]!),
    p99Ms: parseWrkTime(p99[1]!),
    readBytesPerSecond: parseWrkSize(transfer[1]!),
    errors,
    cpuPerRequestUs: Number.NaN,
  };
}

/** The wrk command line for `spec`. */
export function wrkArgs(wrk: string, spec: LoadSpec): string[] {
  const args = [
    wrk,
    `-t${spec.threads}`,
    `-c${spec.connections}`,
    `-d${spec.durationSeconds}s`,
    "--timeout",
    "10s",
    "--latency",
    "-H",
    `Host: ${spec.host}`,
  ];
  for (const [name, value] of Object.entries(spec.headers)) args.push("-H", `${name}: ${value}`);
  if (spec.wrkScript !== undefined) args.push("-s", spec.wrkScript);
  args.push(spec.url);
  return args;
}

/** Runs wrk once; throws when it fails or its report cannot be read. */
export async function runWrk(wrk: string, spec: LoadSpec): Promise<LoadResult> {
  const child = spawnTracked("wrk", wrkArgs(wrk, spec), { stdout: "pipe", stderr: "pipe" });
  const limit = setTimeout(() => void stopTracked(child), (spec.durationSeconds + 30) * 1000);
  try {
    const [stdout, stderr, code] = await Promise.all([
      new Response(child.stdout as ReadableStream<Uint8Array>).text(),
      new Response(child.stderr as ReadableStream<Uint8Array>).text(),
      child.exited,
    ]);
    if (code !== 0) throw new Error(`wrk exited with ${code}:\n${stdout}${stderr}`);
    return parseWrkReport(stdout);
  } finally {
    clearTimeout(limit);
    await stopTracked(child);
  }
}
