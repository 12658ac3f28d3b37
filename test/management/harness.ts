/**
 * A real management server on 127.0.0.1 and a free port, saving through the real
 * state store (snapshot and change log) in a temp folder, as `mantrid serve` does.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ruleCheck } from "../../src/actions/compile.ts";
import { createManagementApp, startManagement } from "../../src/management/index.ts";
import { RuleRegistry } from "../../src/rules/registry.ts";
import { type RuleSet, toTriples } from "../../src/rules/schema.ts";
import { RuleTable } from "../../src/rules/table.ts";
import { StatsBook } from "../../src/stats/host-stats.ts";
import { openStateStore } from "../../src/store/state-log.ts";
import { CertificateCatalog } from "../../src/tls/catalog.ts";
import type { CertDirOptions } from "../../src/tls/cert-dir.ts";
import { type CertificateSources, startCertificates } from "../../src/tls/sources.ts";

export interface Harness {
  url: string;
  port: number;
  registry: RuleRegistry<null>;
  stats: StatsBook;
  /**
   * The folder holding the state file. Removing it makes a save that rewrites the
   * snapshot fail (the first one, or a whole new rule set); appends go to the open log.
   */
  stateDir: string;
  stateFile: string;
  /** The static_dir its rules are checked against (`<root>/static` unless given). */
  staticDir: string;
  /** With the `certificates` option: the store and cert_dir behind `/certificate/`. */
  certificates: CertificateSources | null;
  close(): Promise<void>;
}

export interface HarnessOptions {
  token?: string;
  bodyLimit?: number;
  /** Rules in the state file when the server starts (in the original format: no log yet). */
  initial?: RuleSet;
  staticDir?: string;
  /** Serves `/certificate/` from a store beside the state file, and from `certDir` when given. */
  certificates?: { certDir?: string; dirOptions?: CertDirOptions };
  /** The state's folder, kept on close, so that a second server can start on it. */
  stateDir?: string;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const root = await mkdtemp(join(tmpdir(), "mantrid-management-"));
  const stateDir = options.stateDir ?? join(root, "state");
  await mkdir(stateDir, { recursive: true });
  const stateFile = join(stateDir, "state.json");
  const staticDir = options.staticDir ?? join(root, "static");
  if (options.initial !== undefined) {
    await writeFile(stateFile, JSON.stringify({ hosts: toTriples(options.initial), stats: {} }));
  }
  const store = await openStateStore(stateFile);
  const stats = new StatsBook();
  stats.restore(store.loaded.stats);
  // As the primary of `workers = N` has it: a table that compiles nothing, rules checked all the same.
  const registry = new RuleRegistry(
    new RuleTable(() => null),
    stats,
    (changes, snapshot) => store.save(changes, snapshot),
    store.loaded.hosts,
    null,
    ruleCheck(staticDir),
  );
  const certificates =
    options.certificates === undefined
      ? null
      : await startCertificates(
          { stateFile, certDir: options.certificates.certDir ?? null, uid: null, gid: null },
          new CertificateCatalog(),
          options.certificates.dirOptions,
        );
  const app = createManagementApp({
    registry,
    stats,
    token: options.token,
    bodyLimit: options.bodyLimit,
    certificates: certificates ?? undefined,
  });
  const [server] = startManagement(app, [{ host: "127.0.0.1", port: 0 }]);
  const port = server!.port!;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    registry,
    stats,
    stateDir,
    stateFile,
    staticDir,
    certificates,
    async close() {
      await server!.stop(true);
      await certificates?.stop();
      await store.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A port that was just bound and released, so nothing listens there. */
export async function closedPort(): Promise<number> {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = server.port!;
  await server.stop(true);
  return port;
}

export interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
}

/** One request, its body sent as JSON unless already a string; the answer parsed as JSON. */
export async function call(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const response = await fetch(url + path, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? JSON.parse(text) : null,
  };
}
