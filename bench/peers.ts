/**
 * Starting and stopping the processes under test: the nginx backend (or the
 * Bun one), HAProxy, nginx as a proxy, and Mantrid. Each runs on its own port
 * with its files in the benchmark's temp folder, and is tracked by PID.
 */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import {
  haproxyConfig,
  LARGE_BYTES,
  nginxBackendConfig,
  nginxProxyConfig,
  SMALL_BODY,
  type TlsBind,
} from "./configs.ts";
import { freePort, waitForPort } from "./ports.ts";
import { type LogWatch, spawnTracked, stopTracked, watchStderr } from "./processes.ts";

export const ROOT = resolve(import.meta.dir, "..");
export const BINARY = join(ROOT, "dist/mantrid");
/** The hostname of Mantrid's rule; every request carries it. */
export const BENCH_HOST = "bench.test";

export interface Peer {
  name: string;
  port: number;
  pid: number;
  log: LogWatch;
  stop(): Promise<void>;
}

export interface MantridPeer extends Peer {
  /** Base URL of the management API, without a trailing slash. */
  api: string;
}

/** Finds an executable in PATH or the sbin folders (Debian puts nginx and haproxy there). */
export function findTool(name: string): string | undefined {
  const folders = [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/sbin", "/usr/local/sbin"];
  for (const folder of folders) {
    if (folder === "") continue;
    const candidate = join(folder, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

function requireTool(name: string): string {
  const path = findTool(name);
  if (path === undefined) {
    throw new Error(`${name} is not installed (apt-get install -y haproxy nginx wrk)`);
  }
  return path;
}

const started: { name: string; child: Subprocess; log: LogWatch }[] = [];

function peer(name: string, port: number, child: Subprocess, log: LogWatch): Peer {
  started.push({ name, child, log });
  return { name, port, pid: child.pid, log, stop: () => stopTracked(child) };
}

/** Peers that exited before they were stopped, each with its exit and the end of its log. */
export function unexpectedExits(): string[] {
  return started
    .filter(({ child }) => child.exitCode !== null || child.signalCode !== null)
    .filter(({ child }) => !child.killed)
    .map(({ name, child, log }) => {
      const how =
        child.signalCode !== null ? `signal ${child.signalCode}` : `code ${child.exitCode}`;
      return `${name} (pid ${child.pid}) exited with ${how}; its log ends:\n${log.text().slice(-3000)}`;
    });
}

/** Waits for the port, failing early (with the log) if the process exits first. */
async function whenListening(name: string, child: Subprocess, port: number, log: LogWatch) {
  const exited = child.exited.then((code) => {
    throw new Error(`${name} exited with ${code} before listening:\n${log.text()}`);
  });
  await Promise.race([waitForPort(port), exited]);
}

/** Writes the files the backends serve: `www/small` and `www/100k`. */
async function writeContent(dir: string): Promise<void> {
  await mkdir(join(dir, "www"), { recursive: true });
  await writeFile(join(dir, "www/small"), SMALL_BODY);
  await writeFile(join(dir, "www/100k"), new Uint8Array(LARGE_BYTES).fill(120));
}

async function startNginx(name: string, dir: string, port: number, config: string) {
  const nginx = requireTool("nginx");
  const path = join(dir, `${name}.conf`);
  await writeFile(path, config);
  const child = spawnTracked(name, [
    nginx,
    "-p",
    dir,
    "-e",
    join(dir, `${name}-error.log`),
    "-c",
    path,
  ]);
  const log = watchStderr(child.stderr as ReadableStream<Uint8Array>, name);
  await whenListening(name, child, port, log);
  return peer(name, port, child, log);
}

/** The nginx backend; with `extraPorts`, the same server answers on those too (as more backends). */
export async function startNginxBackend(dir: string, extraPorts: number[] = []): Promise<Peer> {
  await writeContent(dir);
  const port = freePort();
  return startNginx("backend", dir, port, nginxBackendConfig(dir, port, extraPorts));
}

export async function startNginxProxy(dir: string, backendPort: number): Promise<Peer> {
  const port = freePort();
  return startNginx("nginx", dir, port, nginxProxyConfig(dir, port, backendPort));
}

/** HAProxy on a plain port (`port` of the peer), and on the TLS ones of `tls` if any. */
export async function startHaproxy(
  dir: string,
  backendPort: number,
  maxconn?: number,
  tls: TlsBind[] = [],
): Promise<Peer> {
  const haproxy = requireTool("haproxy");
  const port = freePort();
  const path = join(dir, "haproxy.cfg");
  await writeFile(path, haproxyConfig(port, backendPort, maxconn, tls));
  const child = spawnTracked("haproxy", [haproxy, "-db", "-f", path]);
  const log = watchStderr(child.stderr as ReadableStream<Uint8Array>, "haproxy");
  await whenListening("haproxy", child, port, log);
  return peer("haproxy", port, child, log);
}

/** A Bun script of this folder in its own process; it logs `listening on HOST:PORT`. */
async function startBunScript(name: string, file: string, env?: Record<string, string>) {
  const child = spawnTracked(name, [process.execPath, join(import.meta.dir, file)], {
    env: env === undefined ? undefined : { ...process.env, ...env },
  });
  const log = watchStderr(child.stderr as ReadableStream<Uint8Array>, name);
  const port = Number((await log.match(/listening on [^\s]+:(\d+)/))[1]);
  return peer(name, port, child, log);
}

/** The Bun backend of `--quick`, in its own process. */
export function startBunBackend(): Promise<Peer> {
  return startBunScript("backend", "bun-backend.ts");
}

/** The TLS pipe (`tls-pipe.ts`, `node:tls` or Bun.listen) serving the certificate of `pem`. */
export function startTlsPipe(
  mode: "node" | "bun",
  backendPort: number,
  pem: string,
): Promise<Peer> {
  return startBunScript(`tls-pipe-${mode}`, "tls-pipe.ts", {
    TLS_PIPE_MODE: mode,
    TLS_PIPE_TO: String(backendPort),
    TLS_PIPE_PEM: pem,
  });
}

/** The bare Bun pipe (`bun-pipe.ts`) in front of the backend on `backendPort`. */
export function startBunPipe(backendPort: number): Promise<Peer> {
  return startBunScript("bun-pipe", "bun-pipe.ts", { BENCH_PIPE_TO: String(backendPort) });
}

/** Builds dist/mantrid with build.ts when it is missing. */
export function ensureBinary(): string {
  if (!existsSync(BINARY)) {
    process.stderr.write("dist/mantrid is missing: building it\n");
    const build = Bun.spawnSync([process.execPath, "build.ts"], {
      cwd: ROOT,
      stdout: "inherit",
      stderr: "inherit",
    });
    if (build.exitCode !== 0) throw new Error("bun build.ts failed");
  }
  return BINARY;
}

export interface MantridOptions {
  workers?: number;
  /** Its folder under the benchmark's temp folder (default "mantrid"). */
  folder?: string;
  /** The state file to start from (written by the caller); default none. */
  stateFile?: string;
  /** How long to wait for start-up, in ms (a big state file takes a while). */
  startTimeoutMs?: number;
  /** `max_connections`, through a config file; Mantrid's default when absent. */
  maxConnections?: number;
  /** `metrics`, through a config file; Mantrid's default (on) when absent. */
  metrics?: boolean;
  /** More lines of its config file (`key = value`). */
  settings?: string[];
  /** More flags (`--bind-tls 127.0.0.1:8443`). */
  flags?: string[];
}

/** Starts dist/mantrid on OS-chosen ports; the log tells which. */
export async function startMantrid(
  dir: string,
  options: MantridOptions = {},
): Promise<MantridPeer> {
  const binary = ensureBinary();
  const folder = join(dir, options.folder ?? "mantrid");
  await mkdir(join(folder, "static"), { recursive: true });
  const argv = [
    binary,
    "--bind",
    "127.0.0.1:0",
    "--management",
    "127.0.0.1:0",
    "--state-file",
    options.stateFile ?? join(folder, "state.json"),
    "--static-dir",
    join(folder, "static"),
  ];
  if (options.workers !== undefined) argv.push("--workers", String(options.workers));
  argv.push(...(options.flags ?? []));
  const settings: string[] = [...(options.settings ?? [])];
  if (options.maxConnections !== undefined) {
    settings.push(`max_connections = ${options.maxConnections}`);
  }
  if (options.metrics !== undefined) settings.push(`metrics = ${options.metrics}`);
  if (settings.length > 0) {
    const config = join(folder, "mantrid.conf");
    await writeFile(config, `${settings.join("\n")}\n`);
    argv.push("--config", config);
  }
  const child = spawnTracked("mantrid", argv, { cwd: folder });
  const log = watchStderr(child.stderr as ReadableStream<Uint8Array>, "mantrid");
  const timeout = options.startTimeoutMs ?? 30_000;
  const listening = await log.match(/listening on [^\s]+:(\d+)/, timeout);
  const management = await log.match(/management API on (http:\/\/[^\s]+?)\/?(\s|$)/, timeout);
  return {
    ...peer("mantrid", Number(listening[1]), child, log),
    api: management[1]!,
  };
}

/** Sets one rule through the API; throws unless it answers `{"ok":true}`. */
export async function putRule(api: string, host: string, rule: unknown): Promise<void> {
  const response = await fetch(`${api}/hostname/${encodeURIComponent(host)}/`, {
    method: "PUT",
    body: JSON.stringify(rule),
  });
  const text = await response.text();
  if (!response.ok || !text.includes('"ok":true')) {
    throw new Error(`PUT /hostname/${host}/ answered ${response.status}: ${text}`);
  }
}

/** The rule that sends `BENCH_HOST` to the backend. */
export function proxyRule(backendPort: number): unknown {
  return ["proxy", { backends: [`127.0.0.1:${backendPort}`] }, false];
}

/** The same over several backends, by `least_conn`, each checked every 2 s. */
export function balancedRule(backendPorts: number[]): unknown {
  return [
    "proxy",
    {
      policy: "least_conn",
      backends: backendPorts.map((port) => `127.0.0.1:${port}`),
      health: { path: "/small", interval: 2 },
    },
    false,
  ];
}
