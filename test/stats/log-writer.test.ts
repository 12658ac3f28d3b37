import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../src/config/config.ts";
import { openLogWriter, WriteFailed } from "../../src/stats/log-writer.ts";

const dir = mkdtempSync(join(tmpdir(), "mantrid-log-writer-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a file", () => {
  test("is created with mode 0640, and appended to", async () => {
    const path = join(dir, "access.log");
    const writer = openLogWriter(path);
    expect(writer.name).toBe(path);
    expect(statSync(path).mode & 0o777).toBe(0o640 & ~process.umask());
    await writer.write(Buffer.from("one\n"));
    await writer.write(Buffer.from("two\n"));
    await writer.close();
    const again = openLogWriter(path);
    await again.write(Buffer.from("three\n"));
    await again.close();
    expect(readFileSync(path, "utf8")).toBe("one\ntwo\nthree\n");
  });

  test("reopen follows the path: after a rename, writes go to a new file", async () => {
    const path = join(dir, "rotated.log");
    const writer = openLogWriter(path);
    await writer.write(Buffer.from("before\n"));
    renameSync(path, `${path}.1`);
    await writer.write(Buffer.from("still old\n"));
    expect(await writer.reopen()).toBe(true);
    await writer.write(Buffer.from("after\n"));
    await writer.close();
    expect(readFileSync(`${path}.1`, "utf8")).toBe("before\nstill old\n");
    expect(readFileSync(path, "utf8")).toBe("after\n");
  });

  test("a write that cannot finish never holds up the event loop", async () => {
    const fifo = join(dir, "stuck");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    // Holds the pipe open and never reads it: a write beyond the pipe's 64 KiB cannot finish.
    const reader = Bun.spawn(["sh", "-c", 'exec 3< "$0"; read _', fifo], { stdin: "pipe" });
    const writer = openLogWriter(fifo);
    let settled = false;
    const write = writer.write(Buffer.alloc(1 << 20, 0x61)).then(
      () => "written",
      (error: WriteFailed) => error.code,
    );
    void write.finally(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 1));
    expect(settled).toBe(false);
    reader.kill();
    expect(await write).toBe("EPIPE");
    await writer.close();
  });

  test("a folder that does not exist stops the start with one line", () => {
    const path = join(dir, "missing", "access.log");
    expect(() => openLogWriter(path)).toThrow(ConfigError);
    expect(() => openLogWriter(path)).toThrow(
      `cannot open the access log ${path}: a folder on the path does not exist (ENOENT)`,
    );
  });

  test.skipIf(!existsSync("/dev/full"))("a full disk fails the write with ENOSPC", async () => {
    const writer = openLogWriter("/dev/full");
    const failure = await writer.write(Buffer.from("line\n")).catch((error) => error);
    expect(failure).toBeInstanceOf(WriteFailed);
    expect(failure.code).toBe("ENOSPC");
    expect(failure.written).toBe(0);
    await writer.close();
  });
});

test("- is stderr: writes of at most PIPE_BUF, nothing to reopen or close", async () => {
  const writer = openLogWriter("-");
  expect(writer.name).toBe("stderr");
  expect(writer.atomicBytes).toBe(4096);
  expect(await writer.reopen()).toBe(false);
  await writer.close();
});
