/** The compiled executable as a user runs it: quick start, client, config errors, restart, signals. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PURGE_DELAY_ENV, PURGE_DELAY_MS } from "../../src/system/allocator.ts";
import { namedBackend, type TestBackend } from "../support/backend.ts";
import {
  BINARY,
  ensureBinary,
  type RunningBinary,
  runBinary,
  startBinary,
} from "../support/binary.ts";
import { connect, parseResponses } from "../support/wire.ts";

let dir: string;
beforeAll(async () => {
  ensureBinary();
  dir = await mkdtemp(join(tmpdir(), "mantrid-e2e-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function get(port: number, host: string, path = "/") {
  const connection = await connect(port);
  connection.send(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  return parseResponses(await connection.closed)[0]!;
}

describe("the quick start", () => {
  let server: RunningBinary;
  let backend: TestBackend;
  beforeAll(async () => {
    server = await startBinary([], dir, { [PURGE_DELAY_ENV]: undefined });
    backend = await namedBackend("app");
  });
  afterAll(async () => {
    await server.stop("SIGKILL");
    await backend.close();
  });

  test("client set, then the test page is served", async () => {
    const set = await server.client("set", "localhost", "static", "false", "type=test");
    expect(set.code).toBe(0);
    const response = await get(server.port, "localhost");
    expect(response.status).toBe(200);
    expect(response.body.toString()).toContain("Congratulations");
  });

  test("proxy through the binary, and the client lists and counts it", async () => {
    const set = await server.client(
      "set",
      "app.test",
      "proxy",
      "true",
      `backends=127.0.0.1:${backend.port}`,
    );
    expect(set.code).toBe(0);
    expect((await get(server.port, "www.app.test")).body.toString()).toBe("app");
    const list = await server.client("list");
    expect(list.stdout).toMatch(
      new RegExp(`app\\.test\\s+proxy<127\\.0\\.0\\.1:${backend.port}>\\s+true`),
    );
    const stats = await server.client("stats", "app.test");
    expect(stats.stdout).toMatch(/app\.test\s+0\s+1\s+/);
  });

  test("a client error is one line and a non-zero exit", async () => {
    const bad = await server.client("set", "x.test", "empty", "false", "code=abc");
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.stderr).toContain("code");
  });

  test("under the name mantrid-client the binary is the client", async () => {
    const copy = join(dir, "mantrid-client");
    await copyFile(ensureBinary(), copy);
    const run = Bun.spawn([copy, "--url", server.api, "get", "localhost"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, code] = await Promise.all([new Response(run.stdout).text(), run.exited]);
    expect(code).toBe(0);
    expect(stdout).toContain("static<test>");
  });
});

describe("the allocator's purge delay", () => {
  const procList = async (pid: number, file: string) =>
    (await readFile(`/proc/${pid}/${file}`, "latin1")).split("\0");

  test("the server sets it for itself, and stays one process with the same arguments", async () => {
    const server = await startBinary([], undefined, { [PURGE_DELAY_ENV]: undefined });
    try {
      const pid = server.process.pid;
      expect(await procList(pid, "environ")).toContain(`${PURGE_DELAY_ENV}=${PURGE_DELAY_MS}`);
      const argv = await procList(pid, "cmdline");
      expect(argv[0]).toBe(BINARY);
      expect(argv.slice(1, 5)).toEqual(["--bind", "127.0.0.1:0", "--management", "127.0.0.1:0"]);
      expect((await get(server.port, "nobody.test")).status).toBe(503);
    } finally {
      await server.stop("SIGKILL");
    }
  });

  test("a value the user set is kept", async () => {
    const server = await startBinary([], undefined, { [PURGE_DELAY_ENV]: "250" });
    try {
      expect(await procList(server.process.pid, "environ")).toContain(`${PURGE_DELAY_ENV}=250`);
    } finally {
      await server.stop("SIGKILL");
    }
  });
});

describe("the state survives a restart", () => {
  test("SIGTERM exits 0 with the rules on disk; a new process serves them", async () => {
    const folder = await mkdtemp(join(tmpdir(), "mantrid-restart-"));
    const first = await startBinary([], folder);
    expect((await first.client("set", "keep.test", "empty", "false", "code=207")).code).toBe(0);
    expect(await first.stop("SIGTERM")).toBe(0);
    expect(first.log()).toContain("stopped");
    const state = JSON.parse(await readFile(join(folder, "state.json"), "utf8"));
    expect(state.hosts["keep.test"]).toEqual(["empty", { code: 207 }, false]);
    const second = await startBinary([], folder);
    expect((await get(second.port, "keep.test")).status).toBe(207);
    expect(await second.stop("SIGINT")).toBe(0);
    await rm(folder, { recursive: true, force: true });
  });

  test("an invalid state file stops start-up and is left as it was", async () => {
    const folder = await mkdtemp(join(tmpdir(), "mantrid-badstate-"));
    await writeFile(join(folder, "state.json"), "{ not json");
    const run = await runBinary([
      "--bind",
      "127.0.0.1:0",
      "--management",
      "127.0.0.1:0",
      "--state-file",
      join(folder, "state.json"),
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("not valid JSON");
    expect(await readFile(join(folder, "state.json"), "utf8")).toBe("{ not json");
    await rm(folder, { recursive: true, force: true });
  });
});

describe("start-up errors", () => {
  test("an unknown key in the config file names the line", async () => {
    const config = join(dir, "bad.conf");
    await writeFile(config, "# comment\nbind = 127.0.0.1:0\nbnd = 1\n");
    const run = await runBinary(["-c", config]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${config}:3`);
    expect(run.stderr).toContain('unknown key "bnd"');
  });

  test("a port in use names the address and the option", async () => {
    const taken = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const run = await runBinary([
      "--bind",
      `127.0.0.1:${taken.port}`,
      "--management",
      "127.0.0.1:0",
      "--state-file",
      join(dir, "s.json"),
    ]);
    taken.stop(true);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`127.0.0.1:${taken.port}`);
    expect(run.stderr).toContain("in use");
    expect(run.stderr).toContain("--bind");
  });

  test("a management API on a public address without a token is refused", async () => {
    const run = await runBinary([
      "--bind",
      "127.0.0.1:0",
      "--management",
      "0.0.0.0:0",
      "--state-file",
      join(dir, "t.json"),
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("management_token");
  });

  test("an unknown flag is refused", async () => {
    const run = await runBinary(["--bnid", "x"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("bnid");
  });
});

describe("privileges", () => {
  test.skipIf(process.getuid?.() !== 0)(
    "as root with uid/gid: binds, drops to the user, and still writes its state",
    async () => {
      const folder = await mkdtemp(join(tmpdir(), "mantrid-uid-"));
      const config = join(folder, "mantrid.conf");
      await writeFile(config, "uid = nobody\ngid = nogroup\n");
      const server = await startBinary(["-c", config], folder);
      expect(server.log()).toMatch(/running as uid 65534 gid 65534/);
      const status = await Bun.file(`/proc/${server.process.pid}/status`).text();
      expect(status).toMatch(/Uid:\s+65534/);
      expect((await server.client("set", "drop.test", "empty", "false", "code=200")).code).toBe(0);
      expect((await get(server.port, "drop.test")).status).toBe(200);
      const state = JSON.parse(await readFile(join(folder, "state.json"), "utf8"));
      expect(state.hosts["drop.test"]).toBeDefined();
      expect(await server.stop()).toBe(0);
      await rm(folder, { recursive: true, force: true });
    },
  );
});
