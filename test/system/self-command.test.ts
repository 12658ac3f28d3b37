// The compiled form (the binary alone) is covered where the binary runs: test/e2e.
import { expect, test } from "bun:test";
import { selfCommand } from "../../src/system/self-command.ts";
import { reported, runScript, SRC } from "../support/script.ts";

test("from source, it is Bun and the entry file", () => {
  expect(selfCommand()).toEqual([process.execPath, Bun.main]);
});

test("from source, running it starts this same program again", async () => {
  const script = `
    import { selfCommand } from ${JSON.stringify(`${SRC}/system/self-command.ts`)};
    if (process.env.MANTRID_TEST_AGAIN === "1") {
      console.log(JSON.stringify({ again: true, main: Bun.main }));
    } else {
      const child = Bun.spawnSync(selfCommand(), {
        env: { ...process.env, MANTRID_TEST_AGAIN: "1" },
        stderr: "inherit",
      });
      process.stdout.write(child.stdout);
      process.exit(child.exitCode ?? 1);
    }
  `;
  const run = await runScript(script, { env: { MANTRID_TEST_AGAIN: undefined } });
  expect(reported(run)).toEqual({ again: true, main: run.path });
});
