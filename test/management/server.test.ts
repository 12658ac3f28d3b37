import { expect, test } from "bun:test";
import { createManagementApp, startManagement } from "../../src/management/index.ts";
import { RuleRegistry } from "../../src/rules/registry.ts";
import { RuleTable } from "../../src/rules/table.ts";
import { StatsBook } from "../../src/stats/host-stats.ts";

function app() {
  const stats = new StatsBook();
  const registry = new RuleRegistry(new RuleTable(() => null), stats, async () => {}, new Map());
  return createManagementApp({ registry, stats });
}

test("one server per address, each answering", async () => {
  const servers = startManagement(app(), [
    { host: "127.0.0.1", port: 0 },
    { host: "::1", port: 0 },
  ]);
  try {
    expect(servers).toHaveLength(2);
    const v4 = await fetch(`http://127.0.0.1:${servers[0]!.port}/`);
    const v6 = await fetch(`http://[::1]:${servers[1]!.port}/`);
    expect(v4.status).toBe(200);
    expect(v6.status).toBe(200);
  } finally {
    for (const server of servers) await server.stop(true);
  }
});

test("an address in use is a clear error naming it, and nothing stays bound", async () => {
  const [taken] = startManagement(app(), [{ host: "127.0.0.1", port: 0 }]);
  const port = taken!.port!;
  const free = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const freePort = free.port!;
  await free.stop(true);
  try {
    expect(() =>
      startManagement(app(), [
        { host: "127.0.0.1", port: freePort },
        { host: "127.0.0.1", port },
      ]),
    ).toThrow(
      `cannot listen on 127.0.0.1:${port} for management (the address is in use): change bind_management or --management`,
    );
    // The first listener was stopped again, so its port can be bound afresh.
    const again = Bun.serve({ hostname: "127.0.0.1", port: freePort, fetch: () => new Response() });
    await again.stop(true);
  } finally {
    await taken!.stop(true);
  }
});
