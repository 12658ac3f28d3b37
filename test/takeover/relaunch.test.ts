/** SIGUSR2 and SIGHUP start this program again, at its path, with --takeover. */
import { expect, test } from "bun:test";
import { successorCommand } from "../../src/takeover/relaunch.ts";

test("the binary at the running one's path, its arguments, and --takeover once", () => {
  const args = ["serve", "-c", "/etc/mantrid/mantrid.conf"];
  expect(successorCommand(args, ["/usr/bin/mantrid"])).toEqual([
    "/usr/bin/mantrid",
    ...args,
    "--takeover",
  ]);
  // Replaced on disk, the running file is "(deleted)": the path holds the new one.
  expect(successorCommand([...args, "--takeover"], ["/usr/bin/mantrid (deleted)"])).toEqual([
    "/usr/bin/mantrid",
    ...args,
    "--takeover",
  ]);
  // From source: Bun and the entry file.
  expect(successorCommand([], ["/usr/bin/bun", "/src/main.ts"])).toEqual([
    "/usr/bin/bun",
    "/src/main.ts",
    "--takeover",
  ]);
});
