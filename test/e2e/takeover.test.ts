/**
 * Restarts and upgrades with the compiled binary: `mantrid serve --takeover`,
 * SIGUSR2 (the binary at the same path again) and SIGHUP (the configuration
 * again), under load from new-connection and keep-alive clients.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { mkdtemp, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MIGRATE_REQ_PATH } from "../../src/takeover/migrate-requests.ts";
import { freePort, namedBackend, type TestBackend } from "../support/backend.ts";
import { ensureBinary, runBinary } from "../support/binary.ts";
import { waitFor } from "../support/wait.ts";
import { connect, parseResponses } from "../support/wire.ts";
import { Load } from "../takeover/load.ts";
import {
  addressesOf,
  countersOf,
  killAll,
  launch,
  placeBinary,
  type Server,
  serveArgs,
  setRule,
  track,
} from "../takeover/servers.ts";

let dir: string;
let backend: TestBackend;
beforeAll(async () => {
  ensureBinary();
  backend = await namedBackend("ok");
});
afterAll(() => backend.close());
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "mantrid-takeover-"));
});
afterEach(async () => {
  killAll();
  await rm(dir, { recursive: true, force: true });
});

/** Without migration, connections queued at the old listener are reset: only root can turn it on. */
const migrates = (() => {
  try {
    return readFileSync(MIGRATE_REQ_PATH, "utf8").trim() === "1" || process.getuid?.() === 0;
  } catch {
    return false;
  }
})();

/** Starts a server that takes over from the one running on `dir`'s state file. */
async function takeOver(binary: string, from: Server, extra: string[] = []): Promise<Server> {
  const next = await launch(binary, serveArgs(dir, ["--takeover", ...extra]), dir);
  await next.match(new RegExp(`took over from pid ${from.pid}\\b`));
  expect(await from.exited).toBe(0);
  expect(from.log()).toContain(`stopped; pid ${next.pid} carries on`);
  return next;
}

test.skipIf(!migrates)(
  "ten takeovers and a SIGUSR2 upgrade under load: no request fails, rules and counters carry over",
  async () => {
    const binary = join(dir, "mantrid");
    await placeBinary(binary);
    let server = await launch(binary, serveArgs(dir), dir);
    const { port, api } = await addressesOf(server);
    await setRule(api, "load.test", ["proxy", { backends: [`127.0.0.1:${backend.port}`] }, false]);
    await setRule(api, "kept.test", ["empty", { code: 204 }, true]);
    const rules = await (await fetch(`${api}/hostname/`)).json();

    const load = new Load(port, "load.test", "ok", { fresh: 3, keepAlive: 3 });
    await load.progress(50);
    for (let i = 0; i < 10; i++) {
      server = await takeOver(binary, server);
      // Traffic reaches the new server before the next one takes over.
      await load.progress(50);
    }

    // The upgrade: a new file at the binary's path, then SIGUSR2 to the running server.
    await placeBinary(binary);
    const before = server;
    expect(await readlink(`/proc/${before.pid}/exe`)).toBe(`${binary} (deleted)`);
    before.process.kill("SIGUSR2");
    const started = await before.match(/SIGUSR2: upgrading; started (\S+) .*\(pid (\d+)\)/);
    const upgraded = Number(started[2]);
    track(upgraded);
    expect(started[1]).toBe(binary);
    // The new server logs where the old one does: it inherited its stderr.
    await before.match(new RegExp(`took over from pid ${before.pid}\\b`));
    expect(await before.exited).toBe(0);
    expect(await readlink(`/proc/${upgraded}/exe`)).toBe(binary);
    await load.progress(50);

    const report = await load.stop();
    expect(report.failures).toEqual([]);
    expect(report.ok).toBeGreaterThanOrEqual(600);

    // Each predecessor passed on what it counted after its last save.
    await before.match(new RegExp(`pid ${before.pid} has exited`));
    expect(await (await fetch(`${api}/hostname/`)).json()).toEqual(rules);
    const counters = await countersOf(api, "load.test");
    expect(counters.completed_requests).toBe(report.ok);
    expect(counters.open_requests).toBe(0);

    // The API writes again, and the lock went along: a third server still refuses.
    await setRule(api, "after.test", ["empty", { code: 202 }, false]);
    const after = await connect(port);
    after.send("GET / HTTP/1.1\r\nHost: after.test\r\nConnection: close\r\n\r\n");
    expect(parseResponses(await after.closed)[0]?.status).toBe(202);
    const third = await runBinary(serveArgs(dir), dir);
    expect(third.code).toBe(1);
    expect(third.stderr).toContain(`in use by another mantrid (pid ${upgraded})`);
    process.kill(upgraded, "SIGTERM");
  },
  120_000,
);

test.skipIf(!migrates)(
  "with workers, takeovers under load drop no request",
  async () => {
    const binary = ensureBinary();
    let server = await launch(binary, serveArgs(dir, ["--workers", "2"]), dir);
    const { port, api } = await addressesOf(server);
    await setRule(api, "load.test", ["proxy", { backends: [`127.0.0.1:${backend.port}`] }, false]);
    const load = new Load(port, "load.test", "ok", { fresh: 2, keepAlive: 2 });
    await load.progress(50);
    for (let i = 0; i < 3; i++) {
      server = await takeOver(binary, server, ["--workers", "2"]);
      await load.progress(50);
    }
    const report = await load.stop();
    expect(report.failures).toEqual([]);
    await server.match(/pid \d+ has exited/);
    expect((await countersOf(api, "load.test")).completed_requests).toBe(report.ok);
    server.process.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  },
  60_000,
);

test("a request spinning in the old server is answered when its rule changes through the new one", async () => {
  const binary = ensureBinary();
  const old = await launch(binary, serveArgs(dir), dir);
  const { port, api } = await addressesOf(old);
  await setRule(api, "held.test", ["spin", { timeout: 60 }, false]);
  const held = await connect(port);
  held.send("GET / HTTP/1.1\r\nHost: held.test\r\nConnection: close\r\n\r\n");
  // The request is held before the takeover starts: the old server counts it open.
  await waitFor(
    async () => (await countersOf(api, "held.test")).open_requests === 1,
    "the request to be held",
  );

  const next = await launch(binary, serveArgs(dir, ["--takeover"]), dir);
  await next.match(new RegExp(`took over from pid ${old.pid}\\b`));
  expect(old.process.exitCode).toBeNull();
  await setRule(api, "held.test", ["empty", { code: 203 }, false]);
  expect(parseResponses(await held.closed)[0]?.status).toBe(203);
  expect(await old.exited).toBe(0);
  next.process.kill("SIGTERM");
  expect(await next.exited).toBe(0);
});

test("a takeover that fails leaves the old server serving, and taking changes", async () => {
  const binary = ensureBinary();
  const old = await launch(binary, serveArgs(dir), dir);
  const { port, api } = await addressesOf(old);
  await setRule(api, "a.test", ["empty", { code: 204 }, false]);

  // A wrong flag: the new process stops before it says a word to the old one.
  const badFlag = await runBinary(serveArgs(dir, ["--takeover", "--bogus"]), dir);
  expect(badFlag.code).not.toBe(0);

  // A port in use by someone else: refused before the old server gives anything up.
  const taken = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const conflict = await runBinary(
    serveArgs(dir, ["--takeover", "--bind", `127.0.0.1:${taken.port}`]),
    dir,
  );
  taken.stop(true);
  expect(conflict.code).toBe(1);
  expect(conflict.stderr).toContain(
    `cannot listen on 127.0.0.1:${taken.port} (the address is in use)`,
  );

  // An access log it cannot open: found once the old server has handed the state over.
  const late = await runBinary(
    serveArgs(dir, ["--takeover", "--access-log", join(dir, "missing", "access.log")]),
    dir,
  );
  expect(late.code).toBe(1);
  expect(late.stderr).toContain("cannot open the access log");
  await old.match(/the takeover by pid \d+ failed \(pid \d+ could not start: .*access log/);
  await old.match(/carrying on as before/);

  // Still serving, still the owner: a change is accepted and served.
  await setRule(api, "a.test", ["empty", { code: 205 }, false]);
  const after = await connect(port);
  after.send("GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n");
  expect(parseResponses(await after.closed)[0]?.status).toBe(205);
  expect(old.process.exitCode).toBeNull();
  old.process.kill("SIGTERM");
  expect(await old.exited).toBe(0);
  expect(old.log()).toContain("stopped; state saved");
});

test("SIGHUP: a broken configuration changes nothing; a changed one takes effect", async () => {
  const binary = ensureBinary();
  const config = join(dir, "mantrid.conf");
  const first = await freePort();
  const lines = [
    `state_file = ${join(dir, "state.json")}`,
    `static_dir = ${join(dir, "static")}`,
    "bind_management = 127.0.0.1:0",
    `bind = 127.0.0.1:${first}`,
  ];
  await writeFile(config, `${lines.join("\n")}\n`);
  const old = await launch(binary, ["-c", config], dir);
  const { api } = await addressesOf(old);
  await setRule(api, "h.test", ["empty", { code: 204 }, false]);

  await writeFile(config, `${lines.join("\n")}\nbnd = 1\n`);
  old.process.kill("SIGHUP");
  const error = await old.match(/error SIGHUP: (.*)/);
  expect(error[1]).toContain(`${config}:5`);
  expect(error[1]).toContain("carrying on unchanged");
  expect(old.log()).not.toContain("to take over");
  expect(await statusOn(first, "h.test")).toBe(204);

  const second = await freePort();
  await writeFile(config, `${lines.join("\n")}\nbind = 127.0.0.1:${second}\n`);
  old.process.kill("SIGHUP");
  const started = await old.match(/SIGHUP: .* is valid; started .*\(pid (\d+)\) to take over/);
  const next = Number(started[1]);
  track(next);
  expect(await old.exited).toBe(0);
  expect(await statusOn(second, "h.test")).toBe(204);
  expect(await statusOn(first, "h.test")).toBe(204);
  process.kill(next, "SIGTERM");
});

test.skipIf(process.getuid?.() !== 0)(
  "a server that dropped root is upgraded by a takeover run as root, not by its own SIGUSR2",
  async () => {
    const binary = ensureBinary();
    const config = join(dir, "mantrid.conf");
    await writeFile(config, "uid = nobody\ngid = nogroup\n");
    const old = await launch(binary, serveArgs(dir, ["-c", config]), dir);
    const { port, api } = await addressesOf(old);
    await setRule(api, "u.test", ["empty", { code: 204 }, false]);
    // Its listeners are root's: a process it starts, as nobody, could not listen beside them.
    old.process.kill("SIGUSR2");
    await old.match(
      /SIGUSR2: this server dropped root for uid 65534, .* as root instead; carrying on/,
    );
    expect(old.log()).not.toContain("to take over");
    const next = await takeOver(binary, old, ["-c", config]);
    expect(readFileSync(`/proc/${next.pid}/status`, "utf8")).toMatch(/Uid:\s+65534\s/);
    await setRule(api, "u.test", ["empty", { code: 205 }, false]);
    expect(await statusOn(port, "u.test")).toBe(205);
    next.process.kill("SIGTERM");
    expect(await next.exited).toBe(0);
  },
);

async function statusOn(port: number, host: string): Promise<number | undefined> {
  const connection = await connect(port);
  connection.send(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  return parseResponses(await connection.closed)[0]?.status;
}
