/**
 * One server per state file, and start-up refusals in one line: the compiled
 * binary, started twice on one folder, and on state file paths it cannot use.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { chmod, mkdir, mkdtemp, readdir, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBinary, type RunningBinary, runBinary, startBinary } from "../support/binary.ts";

let dir: string;
const servers: RunningBinary[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "mantrid-one-"));
});
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop("SIGKILL");
  await rm(dir, { recursive: true, force: true });
});

async function start(args: string[] = []): Promise<RunningBinary> {
  const server = await startBinary(args, dir);
  servers.push(server);
  return server;
}

function serveArgs(stateFile: string): string[] {
  return [
    "--bind",
    "127.0.0.1:0",
    "--management",
    "127.0.0.1:0",
    "--state-file",
    stateFile,
    "--static-dir",
    join(dir, "static"),
  ];
}

/** A refused start: exit code 1, exactly one error line, no stack frame; returns that line. */
function refusal(run: { code: number; stderr: string }): string {
  expect(run.code).toBe(1);
  const lines = run.stderr.split("\n").filter((line) => line !== "");
  expect(lines.filter((line) => / error /.test(line))).toHaveLength(1);
  expect(lines.filter((line) => /^\s*at /.test(line))).toEqual([]);
  // Info lines about the configuration may come first; the error is the last word.
  return lines.at(-1)!;
}

test("a second server on the same state file refuses, naming it and the first's pid", async () => {
  const first = await start();
  expect((await first.client("set", "kept.test", "empty", "false", "code=204")).code).toBe(0);
  const stateFile = join(dir, "state.json");

  const line = refusal(await runBinary(serveArgs(stateFile), dir));
  expect(line).toContain(`the state file ${stateFile} is in use by another mantrid`);
  expect(line).toContain(`(pid ${first.process.pid})`);

  // SIGKILL leaves no stale lock: the next server starts, with the first's rules.
  await first.stop("SIGKILL");
  const second = await start();
  expect((await second.client("get", "kept.test")).stdout).toContain("empty");
});

test("with workers, only the primary holds the lock", async () => {
  const server = await start(["--workers", "2"]);
  const lockFile = join(dir, "state.json.lock");
  const pids = server
    .log()
    .match(/2 workers: pids (\d+), (\d+)/)!
    .slice(1)
    .map(Number);
  expect(await openPaths(server.process.pid)).toContain(lockFile);
  for (const pid of pids) expect(await openPaths(pid)).not.toContain(lockFile);
  const line = refusal(await runBinary(serveArgs(join(dir, "state.json")), dir));
  expect(line).toContain(`(pid ${server.process.pid})`);
});

test("a state file under a regular file is refused in one line naming the path and the option", async () => {
  await writeFile(join(dir, "file"), "");
  const stateFile = join(dir, "file", "mantrid", "state.json");
  const line = refusal(await runBinary(serveArgs(stateFile), dir));
  expect(line).toContain(
    `error cannot create the folder ${join(dir, "file", "mantrid")} for the state file ` +
      `${stateFile}: a part of the path is a file, not a folder (ENOTDIR); ` +
      "choose another path with --state-file or state_file in mantrid.conf",
  );
});

// Root may write anywhere: as root the binary runs as nobody, through setpriv.
const asUser =
  process.getuid!() === 0 ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
const canDrop = asUser.length === 0 || Bun.which("setpriv") !== null;

test.skipIf(!canDrop)(
  "a state folder this user may not create is refused in one line (EACCES)",
  async () => {
    // Readable and enterable by all, writable by its owner only.
    const locked = join(dir, "locked");
    await mkdir(locked);
    await chmod(dir, 0o755);
    await chmod(locked, 0o755);
    const stateFile = join(locked, "mantrid", "state.json");
    const run = Bun.spawn([...asUser, ensureBinary(), ...serveArgs(stateFile)], {
      stdin: "ignore",
      stdout: "ignore",
      stderr: "pipe",
    });
    const [stderr, code] = await Promise.all([new Response(run.stderr).text(), run.exited]);
    const uid = asUser.length > 0 ? 65534 : process.getuid!();
    const line = refusal({ code, stderr });
    expect(line).toContain(
      `error cannot create the folder ${join(locked, "mantrid")} for the state file ${stateFile}: ` +
        `permission denied for uid ${uid} (EACCES); ` +
        "choose another path with --state-file or state_file in mantrid.conf",
    );
  },
);

/** What a process has open, from /proc. */
async function openPaths(pid: number): Promise<string[]> {
  const fds = await readdir(`/proc/${pid}/fd`);
  return Promise.all(fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => "")));
}
