/** The new server's side: a server it cannot reach is a failed takeover, said in one line. */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Predecessor, TakeoverFailed } from "../../src/takeover/predecessor.ts";
import { takeoverSocketPath } from "../../src/takeover/protocol.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "mantrid-predecessor-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

test("no socket beside the state file: a server without takeovers", async () => {
  const stateFile = join(dir, "state.json");
  const failed = await Predecessor.reach(stateFile, 1234).catch((error) => error);
  expect(failed).toBeInstanceOf(TakeoverFailed);
  expect(failed.message).toBe(
    `cannot take over from pid 1234 (state file ${stateFile}): cannot connect to ` +
      `${takeoverSocketPath(stateFile)}: ENOENT; is it a Mantrid without takeovers?`,
  );
});

test("a server that refuses is named with its reason", async () => {
  const stateFile = join(dir, "state.json");
  const server = Bun.listen({
    unix: takeoverSocketPath(stateFile),
    socket: {
      data(socket) {
        socket.write('{"type":"refused","reason":"pid 99 is taking over already"}\n');
      },
    },
  });
  try {
    const failed = await Predecessor.reach(stateFile, 1234).catch((error) => error);
    expect(failed).toBeInstanceOf(TakeoverFailed);
    expect(failed.message).toEndWith(": pid 99 is taking over already");
  } finally {
    server.stop(true);
  }
});
