/** The state file's lock at a takeover: waited for while its holder lets go, and its holder named. */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  lockHolder,
  lockStateFile,
  lockStateFileWithin,
  StateFileInUse,
} from "../../src/store/lock.ts";

let dir: string;
let stateFile: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "mantrid-handoff-"));
  stateFile = join(dir, "state.json");
});
afterEach(() => rm(dir, { recursive: true, force: true }));

test("the lock is taken as soon as its holder lets it go", async () => {
  const held = lockStateFile(stateFile);
  expect(lockHolder(stateFile)).toBe(process.pid);
  const taking = lockStateFileWithin(stateFile, 5000);
  held.release();
  const taken = await taking;
  taken.release();
});

test("a holder that does not let go in time: the lock is refused as in use", async () => {
  const held = lockStateFile(stateFile);
  try {
    await expect(lockStateFileWithin(stateFile, 30)).rejects.toBeInstanceOf(StateFileInUse);
  } finally {
    held.release();
  }
});
