// Run in a child: the test's own process keeps its limit.
import { describe, expect, test } from "bun:test";
import type { OpenFilesLimit } from "../../src/system/open-files.ts";
import { reported, runScript, SRC } from "../support/script.ts";

// Bun raises the soft limit itself as it starts, so the script lowers it first.
const script = `
  import { readFileSync } from "node:fs";
  import { dlopen, FFIType, ptr } from "bun:ffi";
  import { raiseOpenFilesLimit } from ${JSON.stringify(`${SRC}/system/open-files.ts`)};
  const libc = dlopen("libc.so.6", {
    setrlimit: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  });
  const limit = new BigUint64Array(process.argv.slice(2).map(BigInt));
  if (libc.symbols.setrlimit(7, ptr(limit)) !== 0) throw new Error("setrlimit failed");
  const result = raiseOpenFilesLimit();
  const line = readFileSync("/proc/self/limits", "utf8").split("\\n").find((l) => l.startsWith("Max open files"));
  const [soft, hard] = line.slice("Max open files".length).trim().split(/\\s+/).map(Number);
  console.log(JSON.stringify({ result, soft, hard }));
`;

interface Report {
  result: OpenFilesLimit | null;
  /** The limits the kernel holds for the process after the call. */
  soft: number;
  hard: number;
}

/** Runs the script with the open-files limits set to `soft` and `hard` before the call. */
function withLimits(soft: number, hard: number): Promise<Report> {
  return runScript(script, { args: [String(soft), String(hard)] }).then(reported<Report>);
}

describe.skipIf(process.platform !== "linux")("raiseOpenFilesLimit", () => {
  test("raises the soft limit to the hard one and says what it was", async () => {
    expect(await withLimits(1024, 4096)).toEqual({
      result: { before: 1024, after: 4096, hard: 4096 },
      soft: 4096,
      hard: 4096,
    });
  });

  test("leaves a soft limit already at the hard one as it is", async () => {
    expect(await withLimits(2048, 2048)).toEqual({
      result: { before: 2048, after: 2048, hard: 2048 },
      soft: 2048,
      hard: 2048,
    });
  });
});
