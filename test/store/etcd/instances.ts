/** Mantrid instances sharing one etcd, as the tests of the etcd store start them. */
import { afterAll, beforeAll } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config } from "../../../src/config/config.ts";
import type { StoreHealth } from "../../../src/store/etcd/health.ts";
import { startEtcd, type TestEtcd } from "../../support/etcd.ts";
import { startMantrid, type TestMantrid } from "../../support/mantrid.ts";
import { startTcpRelay, type TcpRelay } from "../../support/tcp-relay.ts";
import { waitFor } from "../../support/wait.ts";

let prefixes = 0;
/** Folders kept past an instance's stop, so it can start again on its state file. */
const folders: string[] = [];

export async function removeFolders(): Promise<void> {
  for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
}

/** A key prefix no other test file uses in the same etcd. */
export function freshPrefix(): string {
  return `/mantrid-test-${process.pid}-${++prefixes}/`;
}

export function etcdConfig(etcd: TestEtcd, prefix: string): Partial<Config> {
  return { store: "etcd", etcdEndpoints: etcd.endpoints, etcdPrefix: prefix };
}

/**
 * Starts an instance on `etcd`; give `dir` to start one again on the state
 * file it had, `endpoints` to reach etcd another way (through a relay).
 */
export async function startShared(
  etcd: TestEtcd,
  prefix: string,
  options: { dir?: string; endpoints?: string[] } = {},
): Promise<TestMantrid> {
  let folder = options.dir;
  if (folder === undefined) {
    folder = await mkdtemp(join(tmpdir(), "mantrid-shared-"));
    folders.push(folder);
  }
  const config = etcdConfig(etcd, prefix);
  if (options.endpoints !== undefined) config.etcdEndpoints = options.endpoints;
  return startMantrid(config, folder);
}

/** One etcd and two instances on a prefix of their own; a test may put another instance in `b`. */
export interface Pair {
  etcd: TestEtcd;
  prefix: string;
  a: TestMantrid;
  b: TestMantrid;
}

/**
 * Starts the file's etcd and pair before its tests (`b` through a relay the
 * tests can cut, when asked), and stops and removes everything after. The
 * fields are set once the tests run.
 */
export function twoInstances(): Pair;
export function twoInstances(options: { relayToB: true }): Pair & { relay: TcpRelay };
export function twoInstances(options: { relayToB?: boolean } = {}): Pair & { relay?: TcpRelay } {
  const pair = {} as Pair & { relay?: TcpRelay };
  beforeAll(async () => {
    pair.etcd = await startEtcd();
    pair.prefix = freshPrefix();
    if (options.relayToB) pair.relay = startTcpRelay(Number(new URL(pair.etcd.endpoints[0]!).port));
    pair.a = await startShared(pair.etcd, pair.prefix);
    const endpoints = pair.relay && [`http://127.0.0.1:${pair.relay.port}`];
    pair.b = await startShared(pair.etcd, pair.prefix, endpoints ? { endpoints } : {});
  });
  afterAll(async () => {
    await pair.a?.stop();
    await pair.b?.stop();
    pair.relay?.close();
    await pair.etcd?.close();
    await removeFolders();
  });
  return pair;
}

/** A management API call; answers with the status and the JSON body. */
export async function call(
  instance: TestMantrid,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${instance.url}${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? null : JSON.parse(text) };
}

/** The status a request for `host` gets from the instance's data plane. */
export async function statusFor(instance: TestMantrid, host: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${instance.port}/`, {
    headers: { Host: host },
    signal: AbortSignal.timeout(10_000),
  });
  await response.arrayBuffer();
  return response.status;
}

/** Waits until a request for `host` gets `status` (the change reached that instance). */
export function waitForStatus(instance: TestMantrid, host: string, status: number, ms = 10_000) {
  return waitFor(
    async () => (await statusFor(instance, host)) === status,
    `${host} to answer ${status} on port ${instance.port}`,
    ms,
  );
}

export async function healthOf(instance: TestMantrid): Promise<StoreHealth> {
  return (await call(instance, "GET", "/health")).body as StoreHealth;
}

export function waitForHealth(instance: TestMantrid, state: StoreHealth["state"], ms = 15_000) {
  return waitFor(
    async () => (await healthOf(instance)).state === state,
    `/health to say ${state}`,
    ms,
  );
}

/** A rule that answers every request with `code` and no body. */
export function empty(code: number): unknown[] {
  return ["empty", { code }, false];
}
