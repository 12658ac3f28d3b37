/**
 * Requests lost while Mantrid is taken over again and again under load:
 * `bun bench/takeover.ts [--takeovers 20] [--clients 3]`. The clients are those
 * of the end-to-end test (new connections, and keep-alive ones that retry a
 * request once when their reused connection closed before any answer byte).
 * To compare net.ipv4.tcp_migrate_req off and on, run it as root in a network
 * namespace of its own (bench/README.md shows how).
 */

import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { namedBackend } from "../test/support/backend.ts";
import { ensureBinary } from "../test/support/binary.ts";
import { Load } from "../test/takeover/load.ts";
import { addressesOf, killAll, launch, serveArgs, setRule } from "../test/takeover/servers.ts";

const { values } = parseArgs({
  options: {
    takeovers: { type: "string", default: "20" },
    clients: { type: "string", default: "3" },
  },
});
const takeovers = Number(values.takeovers);
const clients = Number(values.clients);

const dir = await mkdtemp(join(tmpdir(), "mantrid-bench-takeover-"));
const backend = await namedBackend("ok");
const binary = ensureBinary();
try {
  let server = await launch(binary, serveArgs(dir), dir);
  const { port, api } = await addressesOf(server);
  await setRule(api, "load.test", ["proxy", { backends: [`127.0.0.1:${backend.port}`] }, false]);
  const load = new Load(port, "load.test", "ok", { fresh: clients, keepAlive: clients });
  await load.progress(200);
  const started = performance.now();
  for (let i = 0; i < takeovers; i++) {
    const next = await launch(binary, serveArgs(dir, ["--takeover"]), dir);
    await next.match(new RegExp(`took over from pid ${server.pid}\\b`));
    await server.exited;
    server = next;
    await load.progress(200);
  }
  const seconds = (performance.now() - started) / 1000;
  const report = await load.stop();
  const kinds = new Map<string, number>();
  for (const failure of report.failures) kinds.set(failure, (kinds.get(failure) ?? 0) + 1);
  const migrate = readFileSync("/proc/sys/net/ipv4/tcp_migrate_req", "utf8").trim();
  console.log(
    `tcp_migrate_req ${migrate}: ${takeovers} takeovers in ${seconds.toFixed(1)} s, ` +
      `${report.ok} answered, ${report.failures.length} failed, ${report.retried} retried`,
  );
  for (const [kind, count] of kinds) console.log(`  ${count} x ${kind}`);
  server.process.kill("SIGTERM");
  await server.exited;
} finally {
  killAll();
  await backend.close();
  await rm(dir, { recursive: true, force: true });
}
