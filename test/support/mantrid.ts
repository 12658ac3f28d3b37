/** Starts the real server in this process on OS-chosen ports, with its own temp folder. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAddress } from "../../src/config/address.ts";
import { type Config, DEFAULTS } from "../../src/config/config.ts";
import { type Running, serve } from "../../src/serve.ts";

export interface TestMantrid {
  running: Running;
  /** Port of the external (`bind`) listener. */
  port: number;
  /** Port of the `bind_internal` listener. */
  internalPort: number;
  url: string;
  dir: string;
  config: Config;
  /** PUT a rule through the real API. */
  set(host: string, rule: unknown[]): Promise<void>;
  stop(): Promise<void>;
}

export async function startMantrid(
  overrides: Partial<Config> = {},
  dir?: string,
): Promise<TestMantrid> {
  const folder = dir ?? (await mkdtemp(join(tmpdir(), "mantrid-test-")));
  const config: Config = {
    ...DEFAULTS,
    bind: [parseAddress("127.0.0.1:0")],
    bindInternal: [parseAddress("127.0.0.1:0")],
    bindManagement: [parseAddress("127.0.0.1:0")],
    stateFile: join(folder, "state.json"),
    staticDir: join(folder, "static"),
    shutdownGrace: 1,
    ...overrides,
  };
  const running = await serve(config);
  const url = `http://127.0.0.1:${running.ports.management[0]}`;
  let stopped = false;
  return {
    running,
    port: running.ports.bind[0]!,
    internalPort: running.ports.internal[0]!,
    url,
    dir: folder,
    config,
    async set(host, rule) {
      const response = await fetch(`${url}/hostname/${encodeURIComponent(host)}/`, {
        method: "PUT",
        body: JSON.stringify(rule),
      });
      if (response.status !== 200)
        throw new Error(`PUT ${host}: ${response.status} ${await response.text()}`);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await running.stop();
      if (dir === undefined) await rm(folder, { recursive: true, force: true });
    },
  };
}
