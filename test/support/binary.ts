/** The compiled executable, built once if missing, started as a real process on free ports. */
import { existsSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";

export const BINARY = resolve(import.meta.dir, "../../dist/mantrid");

/** Every process started here, killed when the test run ends, even after a failed test. */
const started = new Set<Subprocess>();
process.on("exit", () => {
  for (const child of started) child.kill("SIGKILL");
});

export function ensureBinary(): string {
  if (!existsSync(BINARY)) {
    const build = Bun.spawnSync([process.execPath, "build.ts"], {
      cwd: resolve(import.meta.dir, "../.."),
      stdout: "ignore",
      stderr: "inherit",
    });
    if (build.exitCode !== 0) throw new Error("bun build.ts failed");
  }
  return BINARY;
}

export interface RunningBinary {
  process: Subprocess<"ignore", "ignore", "pipe">;
  port: number;
  api: string;
  dir: string;
  /** Everything logged so far. */
  log: () => string;
  /** Runs `mantrid client ...` against this server; resolves with its output and exit code. */
  client(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/** Collects a process's stderr, and resolves once `pattern` has appeared in it. */
export function watchLog(stream: ReadableStream<Uint8Array>) {
  let text = "";
  const waiters: { pattern: RegExp; resolve: (match: RegExpMatchArray) => void }[] = [];
  let ended = false;
  let endResolve!: () => void;
  const endedPromise = new Promise<void>((r) => {
    endResolve = r;
  });
  (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      text += decoder.decode(chunk);
      for (let i = waiters.length - 1; i >= 0; i--) {
        const match = text.match(waiters[i]!.pattern);
        if (match) waiters.splice(i, 1)[0]!.resolve(match);
      }
    }
    ended = true;
    endResolve();
  })();
  return {
    text: () => text,
    ended: endedPromise,
    async match(pattern: RegExp): Promise<RegExpMatchArray> {
      const now = text.match(pattern);
      if (now) return now;
      if (ended) throw new Error(`log ended without ${pattern}:\n${text}`);
      return Promise.race([
        new Promise<RegExpMatchArray>((resolve) => waiters.push({ pattern, resolve })),
        endedPromise.then(() => {
          const last = text.match(pattern);
          if (last) return last;
          throw new Error(`log ended without ${pattern}:\n${text}`);
        }),
      ]);
    },
  };
}

/** `env` is added to the test's own environment; an undefined value removes the variable. */
export async function startBinary(
  extraArgs: string[] = [],
  dir?: string,
  env: Record<string, string | undefined> = {},
): Promise<RunningBinary> {
  const binary = ensureBinary();
  const folder = dir ?? (await mkdtemp(join(tmpdir(), "mantrid-bin-")));
  const child = Bun.spawn(
    [
      binary,
      "--bind",
      "127.0.0.1:0",
      "--management",
      "127.0.0.1:0",
      "--state-file",
      join(folder, "state.json"),
      "--static-dir",
      join(folder, "static"),
      ...extraArgs,
    ],
    { cwd: folder, env: withEnv(env), stdin: "ignore", stdout: "ignore", stderr: "pipe" },
  );
  started.add(child);
  child.exited.then(() => started.delete(child));
  const log = watchLog(child.stderr);
  const listening = await log.match(/listening on [^\s]+:(\d+)/);
  const management = await log.match(/management API on (http:\/\/[^\s]+?)\/?\s/);
  const api = management[1]!;
  return {
    process: child,
    port: Number(listening[1]),
    api,
    dir: folder,
    log: log.text,
    client: (...args) => runBinary(["client", "--url", api, ...args]),
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null) child.kill(signal);
      return child.exited;
    },
  };
}

function withEnv(changes: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...process.env, ...changes })) {
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** Runs the binary to completion: start-up errors, the client. */
export async function runBinary(args: string[], cwd?: string) {
  const run = Bun.spawn([ensureBinary(), ...args], {
    cwd,
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(run.stdout).text(),
    new Response(run.stderr).text(),
    run.exited,
  ]);
  return { code, stdout, stderr };
}

/** Resident memory of a process in bytes, from /proc. */
export async function rssOf(pid: number): Promise<number> {
  const status = await Bun.file(`/proc/${pid}/status`).text();
  const kib = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  return kib * 1024;
}

/** The binary with `--workers 2` (and `extraArgs`), and its two workers' pids from its log. */
export async function startWorkersBinary(
  extraArgs: string[] = [],
): Promise<{ server: RunningBinary; pids: number[] }> {
  const server = await startBinary(["--workers", "2", ...extraArgs]);
  const match = /2 workers: pids (\d+), (\d+)/.exec(server.log());
  if (match === null) throw new Error(`no worker pids in the log:\n${server.log()}`);
  return { server, pids: [Number(match[1]), Number(match[2])] };
}
