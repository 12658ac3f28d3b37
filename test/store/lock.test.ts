import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { lockPath, lockStateFile, StateFileInUse } from "../../src/store/lock.ts";
import { StateFileError } from "../../src/store/state-file.ts";
import { describeFileError, errnoName, fileErrorMessage } from "../../src/system/file-error.ts";

const LOCK_MODULE = resolve(import.meta.dir, "../../src/store/lock.ts");

let dir: string;
let stateFile: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "mantrid-lock-"));
  stateFile = join(dir, "state.json");
});
afterEach(() => rm(dir, { recursive: true, force: true }));

function refusal(): StateFileInUse {
  try {
    lockStateFile(stateFile).release();
  } catch (error) {
    if (error instanceof StateFileInUse) return error;
    throw error;
  }
  throw new Error("the lock was taken twice");
}

/** A Bun process that takes the lock, says so on stdout, and waits to be killed. */
async function lockInChild(): Promise<Bun.Subprocess<"ignore", "pipe", "inherit">> {
  const script =
    `import { lockStateFile } from ${JSON.stringify(LOCK_MODULE)};` +
    `lockStateFile(${JSON.stringify(stateFile)}); console.log("locked");` +
    "setInterval(() => {}, 1 << 30);";
  const child = Bun.spawn([process.execPath, "-e", script], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "inherit",
  });
  let said = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    said += decoder.decode(chunk);
    if (said.includes("locked")) return child;
  }
  throw new Error(`the child exited without the lock: ${said}`);
}

/** What a process has open, from /proc. */
async function openPaths(pid: number): Promise<string[]> {
  const fds = await readdir(`/proc/${pid}/fd`);
  return Promise.all(fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => "")));
}

describe("the state file lock", () => {
  test("a second lock on the same state file fails, naming the file and the holder's pid", () => {
    const lock = lockStateFile(stateFile);
    const error = refusal();
    expect(error).toBeInstanceOf(StateFileError);
    expect(error.holder).toBe(process.pid);
    expect(error.message).toContain(stateFile);
    expect(error.message).toContain(`pid ${process.pid}`);
    expect(error.message.split("\n")).toHaveLength(1);
    lock.release();
  });

  test("release() lets the next one in, and a second release() does nothing", () => {
    const first = lockStateFile(stateFile);
    first.release();
    first.release();
    const second = lockStateFile(stateFile);
    expect(refusal().holder).toBe(process.pid);
    second.release();
  });

  test("the lock file stays beside the state file and names its holder", async () => {
    const lock = lockStateFile(stateFile);
    expect(lock.path).toBe(lockPath(stateFile));
    expect(lock.path).toBe(`${stateFile}.lock`);
    expect(await Bun.file(lock.path).text()).toBe(`${process.pid}\n`);
    lock.release();
    expect(existsSync(lock.path)).toBe(true);
  });

  test("a longer old pid in the file is cut off when the next holder writes its own", async () => {
    await writeFile(lockPath(stateFile), "1234567890123\n");
    const lock = lockStateFile(stateFile);
    expect(await Bun.file(lock.path).text()).toBe(`${process.pid}\n`);
    lock.release();
  });

  test("an unreadable pid is reported as unknown, and the lock still holds", async () => {
    const lock = lockStateFile(stateFile);
    await writeFile(lock.path, "not a pid\n");
    const error = refusal();
    expect(error.holder).toBeNull();
    expect(error.message).toContain("pid unknown");
    lock.release();
  });

  test("the state file's folder is created", () => {
    stateFile = join(dir, "a", "b", "state.json");
    const lock = lockStateFile(stateFile);
    expect(existsSync(join(dir, "a", "b", "state.json.lock"))).toBe(true);
    lock.release();
  });

  test("a child process holding it and killed with SIGKILL leaves nothing stale", async () => {
    const child = await lockInChild();
    try {
      const error = refusal();
      expect(error.holder).toBe(child.pid);
      expect(error.message).toContain(`pid ${child.pid}`);
    } finally {
      child.kill("SIGKILL");
    }
    await child.exited;
    expect(existsSync(lockPath(stateFile))).toBe(true);
    const lock = lockStateFile(stateFile);
    expect(await Bun.file(lock.path).text()).toBe(`${process.pid}\n`);
    lock.release();
  });

  test("a process started by the holder does not inherit the lock's descriptor", async () => {
    const lock = lockStateFile(stateFile);
    // `cat` lives until its stdin closes; an inherited descriptor would keep the
    // lock after its holder's death, until this child ended too.
    const child = Bun.spawn(["cat"], { stdin: "pipe", stdout: "pipe", stderr: "ignore" });
    try {
      // An echo proves `cat` runs: its descriptors are then the ones exec left it.
      child.stdin.write("ready\n");
      child.stdin.flush();
      await child.stdout.getReader().read();
      expect(await openPaths(process.pid)).toContain(lock.path);
      expect(await openPaths(child.pid)).not.toContain(lock.path);
    } finally {
      child.stdin.end();
      lock.release();
    }
    await child.exited;
  });

  test("a path under a regular file is refused in one line naming the folder and the option", async () => {
    await writeFile(join(dir, "file"), "");
    stateFile = join(dir, "file", "mantrid", "state.json");
    let error: unknown;
    try {
      lockStateFile(stateFile);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(StateFileError);
    const message = (error as Error).message;
    expect(message).toBe(
      `cannot create the folder ${join(dir, "file", "mantrid")} for the state file ${stateFile}: ` +
        "a part of the path is a file, not a folder (ENOTDIR); " +
        "choose another path with --state-file or state_file in mantrid.conf",
    );
  });
});

describe("start-up file error messages", () => {
  test("EACCES names what was done, the path, the user and the option to change", () => {
    const error = Object.assign(new Error("EACCES: permission denied, mkdir '/var/lib/mantrid'"), {
      code: "EACCES",
      syscall: "mkdir",
      path: "/var/lib/mantrid",
    });
    const message = describeFileError(
      error,
      "create the folder /var/lib/mantrid for the state file /var/lib/mantrid/state.json",
      "choose another path with --state-file or state_file in mantrid.conf",
    );
    expect(message).toBe(
      "cannot create the folder /var/lib/mantrid for the state file /var/lib/mantrid/state.json: " +
        `permission denied for uid ${process.getuid!()} (EACCES); ` +
        "choose another path with --state-file or state_file in mantrid.conf",
    );
  });

  test("a code without plain words keeps the system's own, without its path repeated", () => {
    const error = Object.assign(new Error("EBUSY: resource busy or locked, open '/x/y'"), {
      code: "EBUSY",
    });
    expect(describeFileError(error, "open /x/y", "hint")).toBe(
      "cannot open /x/y: resource busy or locked (EBUSY); hint",
    );
  });

  test("an errno number from flock gets its name", () => {
    expect(errnoName(37)).toBe("ENOLCK");
    expect(fileErrorMessage(errnoName(37), "lock /x.lock", "hint")).toBe(
      "cannot lock /x.lock: the file system does not support locks (ENOLCK); hint",
    );
  });
});
