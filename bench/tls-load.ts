/**
 * The loads of `--tls`, each against one target, with the target's own CPU
 * time per request: wrk over https, and the new-connection load of
 * tls-handshakes.ts in a process of its own.
 */
import { join } from "node:path";
import type { Target } from "./check.ts";
import { type LoadTool, runAgainst } from "./load.ts";
import type { BenchOptions } from "./options.ts";
import { BENCH_HOST } from "./peers.ts";
import { spawnTracked, stopTracked } from "./processes.ts";
import type { LoadResult, LoadSpec } from "./result.ts";
import { progress } from "./rounds.ts";
import type { HandshakeLoad, HandshakeResult } from "./tls-handshakes.ts";
import type { TlsScenario } from "./tls-scenarios.ts";
import { runWrk } from "./wrk.ts";

/** The Mantrid with many certificates, in the rows of the SNI scenario. */
export const MANY = "mantrid-many";

/** A target with the SNI names its handshakes go through. */
export interface TlsTarget extends Target {
  namesFile: string;
}

/** The handshake load of bench/tls-handshakes.ts, in its own process. */
async function runHandshakeLoad(load: HandshakeLoad): Promise<HandshakeResult> {
  const script = join(import.meta.dir, "tls-handshakes.ts");
  const child = spawnTracked("tls-load", [process.execPath, script, JSON.stringify(load)], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const limit = setTimeout(() => void stopTracked(child), (load.durationSeconds + 30) * 1000);
  try {
    const [stdout, stderr, code] = await Promise.all([
      new Response(child.stdout as ReadableStream<Uint8Array>).text(),
      new Response(child.stderr as ReadableStream<Uint8Array>).text(),
      child.exited,
    ]);
    if (code !== 0) throw new Error(`the handshake load exited with ${code}:\n${stdout}${stderr}`);
    return JSON.parse(stdout) as HandshakeResult;
  } finally {
    clearTimeout(limit);
    await stopTracked(child);
  }
}

/** Connections that resumed their session, per scenario and target, over all rounds. */
export const resumedCounts = new Map<string, { resumed: number; connections: number }>();

export async function measure(
  scenario: TlsScenario,
  target: TlsTarget,
  options: BenchOptions,
  seconds: number,
  wrk: string,
): Promise<LoadResult> {
  const spec: LoadSpec = {
    url: `https://127.0.0.1:${target.port}${scenario.path}`,
    host: BENCH_HOST,
    method: "GET",
    headers: scenario.headers,
    bodyBytes: 0,
    durationSeconds: seconds,
    threads: options.threads,
    connections: options.connections,
  };
  const tool: LoadTool =
    scenario.load === "wrk"
      ? { name: "wrk", run: (loaded) => runWrk(wrk, loaded) }
      : {
          name: "handshakes",
          run: async (loaded) => {
            const result = await runHandshakeLoad({
              port: target.port,
              namesFile: target.namesFile,
              host: BENCH_HOST,
              path: scenario.path,
              resume: scenario.resume,
              connections: loaded.connections,
              durationSeconds: loaded.durationSeconds,
            });
            const key = `${scenario.name} ${target.name}`;
            const count = resumedCounts.get(key) ?? { resumed: 0, connections: 0 };
            count.resumed += result.resumed;
            count.connections += result.requests;
            resumedCounts.set(key, count);
            return result;
          },
        };
  return runAgainst(tool, target, spec);
}

/** One full handshake per name of `target`, each name once, with the target's CPU per handshake. */
export async function firstHandshakes(target: TlsTarget, names: number): Promise<LoadResult> {
  const tool: LoadTool = {
    name: "handshakes",
    run: (spec) =>
      runHandshakeLoad({
        port: target.port,
        namesFile: target.namesFile,
        host: BENCH_HOST,
        path: "/small",
        resume: false,
        connections: spec.connections,
        durationSeconds: spec.durationSeconds,
        total: names,
      }),
  };
  const spec: LoadSpec = {
    url: `https://127.0.0.1:${target.port}/small`,
    host: BENCH_HOST,
    method: "GET",
    headers: {},
    bodyBytes: 0,
    durationSeconds: 600,
    threads: 1,
    connections: 50,
  };
  const result = await runAgainst(tool, target, spec);
  progress(
    `# ${target.name}: each of ${names} names once, ${result.requestsPerSecond.toFixed(0)} handshakes/s`,
  );
  return result;
}
