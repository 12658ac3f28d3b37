import { afterEach, beforeEach, spyOn } from "bun:test";
import { setLogLevel } from "../../src/log.ts";

/** Runs `action` with stderr caught; returns what it wrote there. */
export function stderrOf(action: () => void): string {
  const write = process.stderr.write;
  let written = "";
  process.stderr.write = ((chunk: string | Uint8Array) => {
    written += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    action();
  } finally {
    process.stderr.write = write;
  }
  return written;
}

/**
 * Catches what the server logs at info and above during each test of the
 * file; the returned list is emptied before each test.
 */
export function catchServerLog(): string[] {
  const logged: string[] = [];
  let spy: ReturnType<typeof spyOn>;
  beforeEach(() => {
    logged.length = 0;
    setLogLevel("info");
    spy = spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      logged.push(String(chunk));
      return true;
    });
  });
  afterEach(() => {
    spy.mockRestore();
    setLogLevel("warn");
  });
  return logged;
}
