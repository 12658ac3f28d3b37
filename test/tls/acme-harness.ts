/**
 * What the ACME tests share: Mantrid with a plain and a TLS listener, told
 * to use a Pebble whose port is chosen before either starts (Pebble must know
 * Mantrid's plain port, Mantrid the CA's URL), and a look at the certificate
 * a TLS client is served.
 */
import { afterEach } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { parseAddress } from "../../src/config/address.ts";
import type { Config } from "../../src/config/config.ts";
import { startMantrid, type TestMantrid } from "../support/mantrid.ts";
import {
  directoryUrl,
  freePort,
  makePebbleTrust,
  type Pebble,
  type PebbleTrust,
  startPebble,
} from "../support/pebble.ts";
import { waitFor } from "../support/wait.ts";

export interface AcmeSetup {
  readonly dir: string;
  readonly trust: PebbleTrust;
  /** The CA's API port, kept across its restarts. */
  readonly caPort: number;
  readonly config: Partial<Config>;
  /** Starts Mantrid (again) on the setup's folder. */
  mantrid(): Promise<TestMantrid>;
  /** Starts Pebble for a Mantrid already running (in this process, or its listeners' ports). */
  pebble(mantrid: TestMantrid | ListenerPorts, validitySeconds?: number): Promise<Pebble>;
  remove(): Promise<void>;
}

/** The plain (http-01) and TLS ports of a Mantrid run in another process. */
export interface ListenerPorts {
  readonly plain: number;
  readonly tls: number;
}

export async function acmeSetup(overrides: Partial<Config> = {}): Promise<AcmeSetup> {
  const dir = await mkdtemp(join(tmpdir(), "mantrid-acme-"));
  const trust = await makePebbleTrust(dir);
  const caPort = freePort();
  const config: Partial<Config> = {
    bindTls: [parseAddress("127.0.0.1:0")],
    acmeDirectory: directoryUrl(caPort),
    acmeCaRoot: trust.caFile,
    ...overrides,
  };
  return {
    dir,
    trust,
    caPort,
    config,
    mantrid: () => startMantrid(config, dir),
    pebble(mantrid, validitySeconds) {
      const ports =
        "running" in mantrid ? { plain: mantrid.port, tls: mantrid.running.ports.tls[0] } : mantrid;
      return startPebble({
        trust,
        dir,
        port: caPort,
        httpPort: ports.plain,
        tlsPort: ports.tls,
        validitySeconds,
      });
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** What one test started; each is stopped after it (Mantrid, then Pebble, then the folder). */
export interface AcmeRun {
  setup: AcmeSetup | null;
  mantrid: TestMantrid | null;
  pebble: Pebble | null;
}

/** The file's run: tests put what they start in it, and it is cleared after each test. */
export function acmeRunEach(): AcmeRun {
  const run: AcmeRun = { setup: null, mantrid: null, pebble: null };
  afterEach(async () => {
    await run.mantrid?.stop();
    await run.pebble?.stop();
    await run.setup?.remove();
    run.mantrid = run.pebble = run.setup = null;
  });
  return run;
}

export interface Served {
  /** The leaf's serial number (hex). */
  serial: string;
  /** The leaf's issuer CN. */
  issuer: string;
  /** The leaf's subjectAltName. */
  names: string;
  /** Whether the chain verified against the roots given (and the name matched). */
  authorized: boolean;
  authorizationError: string | null;
}

/** Shakes hands with the TLS listener for `servername` and reads the leaf it is served. */
export function served(port: number, servername: string, roots?: string): Promise<Served> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: "127.0.0.1",
      port,
      servername,
      ca: roots,
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no TLS handshake for ${servername} within 5 s`));
    }, 5_000);
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      const leaf = socket.getPeerCertificate();
      resolve({
        serial: leaf.serialNumber,
        issuer: String(leaf.issuer?.CN ?? ""),
        names: leaf.subjectaltname ?? "",
        authorized: socket.authorized,
        authorizationError: socket.authorizationError?.message ?? null,
      });
      socket.end();
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** The server log's lines so far that match. */
export function linesMatching(logged: readonly string[], pattern: RegExp): string[] {
  return logged
    .join("")
    .split("\n")
    .filter((line) => pattern.test(line));
}

/** Waits for `count` log lines that match, or says what was logged instead. */
export async function waitForLines(
  logged: readonly string[],
  pattern: RegExp,
  count = 1,
  limitMs = 20_000,
): Promise<string[]> {
  try {
    await waitFor(() => linesMatching(logged, pattern).length >= count, `${pattern}`, limitMs);
  } catch (error) {
    throw new Error(`${(error as Error).message}; the log:\n${logged.join("")}`);
  }
  return linesMatching(logged, pattern);
}
