import { afterEach, beforeEach, expect, test } from "bun:test";
import { runCommand } from "citty";
import { clientCommand } from "../../src/client/index.ts";
import { Exit } from "../../src/command-line.ts";
import { type Harness, startHarness } from "../management/harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(() => h.close());

/** Runs `client ...` as a citty command, as `mantrid` does: an Exit is how it fails. */
async function run(...rawArgs: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = "";
  const command = clientCommand({ stdout: (text) => (stdout += text), env: {} });
  try {
    await runCommand(command, { rawArgs });
    return { code: 0, stdout };
  } catch (error) {
    if (error instanceof Exit) return { code: error.code, stdout };
    throw error;
  }
}

test("flags before and after the subcommand both reach the client", async () => {
  expect(await run("--url", h.url, "set", "a.com", "spin", "true")).toEqual({
    code: 0,
    stdout: "set a.com and its subdomains: spin\n",
  });
  const listed = await run("list", "--url", h.url, "--json");
  expect(listed.code).toBe(0);
  expect(JSON.parse(listed.stdout)).toEqual({
    "a.com": ["spin", { timeout: 120, check_interval: 1 }, true],
  });
});

test("a failure is an Exit with its code", async () => {
  expect((await run("--url", h.url, "get", "nope.com")).code).toBe(1);
  expect((await run("frobnicate")).code).toBe(2);
});
