import { afterEach, beforeEach, expect, spyOn, test } from "bun:test";
import { defineCommand, runCommand } from "citty";
import { clientCommand } from "../../src/client/index.ts";
import { type Harness, startHarness } from "../management/harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
  process.exitCode = 0;
});
afterEach(async () => {
  process.exitCode = 0;
  await h.close();
});

const main = defineCommand({ meta: { name: "mantrid" }, subCommands: { client: clientCommand } });

/** Runs `mantrid ...` through citty, as the executable does, capturing stdout. */
async function mantrid(...rawArgs: string[]): Promise<{ code: number; stdout: string }> {
  const written: string[] = [];
  const stdout = spyOn(process.stdout, "write").mockImplementation((chunk) => {
    written.push(String(chunk));
    return true;
  });
  try {
    await runCommand(main, { rawArgs });
  } finally {
    stdout.mockRestore();
  }
  return { code: Number(process.exitCode ?? 0), stdout: written.join("") };
}

test("flags before and after the subcommand both reach the client", async () => {
  expect(await mantrid("client", "--url", h.url, "set", "a.com", "spin", "true")).toEqual({
    code: 0,
    stdout: "",
  });
  const listed = await mantrid("client", "list", "--url", h.url, "--json");
  expect(listed.code).toBe(0);
  expect(JSON.parse(listed.stdout)).toEqual({
    "a.com": ["spin", { timeout: 120, check_interval: 1 }, true],
  });
});

test("a failure sets the exit code", async () => {
  const stderr = spyOn(process.stderr, "write").mockImplementation(() => true);
  try {
    expect((await mantrid("client", "--url", h.url, "get", "nope.com")).code).toBe(1);
    expect((await mantrid("client", "frobnicate")).code).toBe(2);
  } finally {
    stderr.mockRestore();
  }
});
