// The module acts as it loads, so each case loads it in a fresh process.
import { describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { reported, runScript, SRC } from "./support/script.ts";

const script = `
  await import(${JSON.stringify(`${SRC}/plain-output.ts`)});
  console.log(JSON.stringify({ noColor: process.env.NO_COLOR ?? null }));
`;

describe("plain output", () => {
  test("output to a pipe asks for no colours", async () => {
    const run = await runScript(script, { env: { NO_COLOR: undefined } });
    expect(reported(run)).toEqual({ noColor: "1" });
  });

  test.each(["", "0", "yes"])("a NO_COLOR of %p set by the user is kept", async (value) => {
    const run = await runScript(script, { env: { NO_COLOR: value } });
    expect(reported(run)).toEqual({ noColor: value });
  });

  // `script` gives the child a terminal for its output.
  test.skipIf(!Bun.which("script"))("output to a terminal keeps its colours", async () => {
    const folder = await mkdtemp(join(tmpdir(), "mantrid-tty-"));
    try {
      const path = join(folder, "script.ts");
      await writeFile(path, script);
      const env: Record<string, string> = {};
      for (const [name, value] of Object.entries(process.env)) {
        if (value !== undefined && name !== "NO_COLOR") env[name] = value;
      }
      const child = Bun.spawn(
        [
          "script",
          "-qec",
          `${JSON.stringify(process.execPath)} ${JSON.stringify(path)}`,
          "/dev/null",
        ],
        { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" },
      );
      const [stdout, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
      expect(code).toBe(0);
      expect(stdout).toContain('{"noColor":null}');
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
