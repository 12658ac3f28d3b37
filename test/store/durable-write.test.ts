// A file written in parts is those parts, in order, whatever their number.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileDurably } from "../../src/store/durable-write.ts";

let folder: string;
beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), "mantrid-durable-"));
});
afterEach(() => rm(folder, { recursive: true, force: true }));

test("thousands of parts of every size, over the old file, leave exactly their bytes", async () => {
  const path = join(folder, "state.json");
  await writeFileDurably(path, "the old file, longer than nothing");
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 2500; i++)
    parts.push(Buffer.alloc(i % 7 === 0 ? 0 : (i * 37) % 300, i % 251));
  parts.push(Buffer.alloc(3 * 1024 * 1024, 120));
  await writeFileDurably(path, parts);
  expect((await readFile(path)).equals(Buffer.concat(parts))).toBe(true);
  // No temp file is left behind.
  expect(await readdir(folder)).toEqual(["state.json"]);
});

test("no parts is an empty file", async () => {
  const path = join(folder, "state.json");
  await writeFileDurably(path, []);
  expect((await readFile(path)).length).toBe(0);
});
