/**
 * Nothing acknowledged is ever lost: the compiled binary is killed with SIGKILL
 * at random moments while rules are being written; after each restart every
 * rule whose write was answered is there, and the state file parses.
 */
import { expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBinary } from "../support/binary.ts";

const KILLS = 50;

test(`every acknowledged rule survives ${KILLS} SIGKILLs at random moments`, async () => {
  const folder = await mkdtemp(join(tmpdir(), "mantrid-crash-"));
  const acknowledged = new Set<string>();
  let attempted = 0;
  for (let round = 0; round < KILLS; round++) {
    const server = await startBinary([], folder);
    const rules = (await (await fetch(`${server.api}/hostname/`)).json()) as Record<
      string,
      unknown
    >;
    for (const host of acknowledged) expect(rules[host]).toEqual(["empty", { code: 204 }, false]);
    let running = true;
    const writer = (async () => {
      for (let n = 0; running; n++) {
        const host = `r${round}-${n}.test`;
        attempted++;
        try {
          const response = await fetch(`${server.api}/hostname/${host}/`, {
            method: "PUT",
            body: JSON.stringify(["empty", { code: 204 }, false]),
          });
          if (response.status === 200) acknowledged.add(host);
        } catch {
          return; // killed mid-request: not acknowledged, may or may not be there
        }
      }
    })();
    await Bun.sleep(Math.random() * 40);
    server.process.kill("SIGKILL");
    await server.process.exited;
    running = false;
    await writer;
    // Until a first change is acknowledged there may be no file at all; after, it must parse.
    const file = Bun.file(join(folder, "state.json"));
    if (acknowledged.size > 0 || (await file.exists())) JSON.parse(await file.text());
  }
  const final = await startBinary([], folder);
  const rules = (await (await fetch(`${final.api}/hostname/`)).json()) as Record<string, unknown>;
  const missing = [...acknowledged].filter((host) => rules[host] === undefined);
  expect(missing).toEqual([]);
  expect(acknowledged.size).toBeGreaterThan(KILLS);
  console.log(
    `crash test: ${KILLS} kills, ${attempted} writes tried, ${acknowledged.size} acknowledged, none lost`,
  );
  await final.stop("SIGKILL");
  await rm(folder, { recursive: true, force: true });
}, 180_000);
