/** net.ipv4.tcp_migrate_req: turned on where it can be, asked for where it cannot. */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureRequestMigration } from "../../src/takeover/migrate-requests.ts";
import { catchServerLog } from "../support/stderr.ts";

const logged = catchServerLog();
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "mantrid-migrate-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

test("off and writable: turned on, with one line saying so", async () => {
  const path = join(dir, "tcp_migrate_req");
  await writeFile(path, "0\n");
  expect(ensureRequestMigration(path)).toBe("turned-on");
  expect((await readFile(path, "utf8")).trim()).toBe("1");
  expect(logged.join("")).toContain("set net.ipv4.tcp_migrate_req = 1");
});

test("on already: nothing to say", async () => {
  const path = join(dir, "tcp_migrate_req");
  await writeFile(path, "1\n");
  expect(ensureRequestMigration(path)).toBe("on");
  expect(logged).toEqual([]);
});

test("off and not ours to change: one line asking for it", () => {
  // Readable, and refused to everyone, root included.
  expect(ensureRequestMigration("/proc/version")).toBe("off");
  expect(logged).toHaveLength(1);
  expect(logged[0]).toContain("sysctl -w net.ipv4.tcp_migrate_req=1");
});

test("a kernel without it: one line saying what it costs", () => {
  expect(ensureRequestMigration(join(dir, "missing"))).toBe("unsupported");
  expect(logged).toHaveLength(1);
  expect(logged[0]).toContain("needs Linux 5.14");
});
