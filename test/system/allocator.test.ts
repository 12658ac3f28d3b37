import { describe, expect, test } from "bun:test";
import {
  needsRestart,
  PURGE_DELAY_ENV,
  PURGE_DELAY_MS,
  type StartedAs,
} from "../../src/system/allocator.ts";
import { reported, runScript, SRC } from "../support/script.ts";

const plain: StartedAs = { env: {}, platform: "linux", execArgv: [] };

describe("needsRestart", () => {
  test("a plain start on Linux without the option restarts", () => {
    expect(needsRestart(plain)).toBe(true);
    expect(needsRestart({ ...plain, env: { PATH: "/bin", OTHER: "1" } })).toBe(true);
  });

  test.each([
    ["the option already set (the restarted run)", PURGE_DELAY_MS],
    ["a value of the user's", "250"],
    ["even an empty value", ""],
  ])("does not restart with %s", (_what, value) => {
    expect(needsRestart({ ...plain, env: { [PURGE_DELAY_ENV]: value } })).toBe(false);
  });

  test.each(["darwin", "win32", "freebsd"])("does not restart on %s", (platform) => {
    expect(needsRestart({ ...plain, platform })).toBe(false);
  });

  test("does not restart when Bun was given flags of its own", () => {
    expect(needsRestart({ ...plain, execArgv: ["--cpu-prof"] })).toBe(false);
    expect(needsRestart({ ...plain, execArgv: ["--smol"] })).toBe(false);
  });
});

describe("restartWithAllocatorTuning", () => {
  // Reports once it has gone on past the call: a restart replaces the process before that.
  const script = `
    import { restartWithAllocatorTuning } from ${JSON.stringify(`${SRC}/system/allocator.ts`)};
    restartWithAllocatorTuning(process.argv.slice(2));
    console.log(JSON.stringify({
      pid: process.pid,
      delay: process.env.${PURGE_DELAY_ENV} ?? null,
      marker: process.env.MANTRID_TEST_MARKER ?? null,
      args: process.argv.slice(2),
      main: Bun.main,
    }));
  `;
  interface Report {
    pid: number;
    delay: string | null;
    marker: string | null;
    args: string[];
    main: string;
  }

  test("starts the same program again in the same process, arguments and environment kept", async () => {
    const run = await runScript(script, {
      args: ["serve", "--bind", "127.0.0.1:0", "two words"],
      env: { [PURGE_DELAY_ENV]: undefined, MANTRID_TEST_MARKER: "kept" },
    });
    const report = reported<Report>(run);
    expect(report).toEqual({
      pid: run.pid,
      delay: PURGE_DELAY_MS,
      marker: "kept",
      args: ["serve", "--bind", "127.0.0.1:0", "two words"],
      main: run.path,
    });
    // One report: the first run never got past the call.
    expect(run.stdout.trim().split("\n")).toHaveLength(1);
  });

  test("leaves a value the user set as it is", async () => {
    const run = await runScript(script, { env: { [PURGE_DELAY_ENV]: "250" } });
    expect(reported<Report>(run).delay).toBe("250");
  });

  test("goes on without the option when Bun has flags of its own", async () => {
    const run = await runScript(script, {
      bunFlags: ["--smol"],
      env: { [PURGE_DELAY_ENV]: undefined },
    });
    expect(reported<Report>(run).delay).toBeNull();
  });
});
