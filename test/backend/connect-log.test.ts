/**
 * A backend that refuses connections is logged once per change of state, not
 * once per request: a real server in this process, a port with nothing on it,
 * then a backend started there and stopped again.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { BackendStates } from "../../src/backend/state.ts";
import { freePort, namedBackend } from "../support/backend.ts";
import { startMantrid, type TestMantrid } from "../support/mantrid.ts";
import { catchServerLog } from "../support/stderr.ts";

const logged = catchServerLog();

/** The lines about `key`'s connections, without their time. */
const about = (key: string) =>
  logged
    .filter((line) => line.includes(`backend ${key} `) && /connect/.test(line))
    .map((line) => line.replace(/^\S+ /, "").trimEnd());

describe("through the proxy", () => {
  let mantrid: TestMantrid;
  beforeAll(async () => {
    mantrid = await startMantrid();
  });
  afterAll(() => mantrid.stop());

  async function statuses(count: number): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      const response = await fetch(`http://127.0.0.1:${mantrid.port}/`, {
        headers: { Host: "refused.test" },
      });
      await response.arrayBuffer();
      out.push(response.status);
    }
    return out;
  }

  test("refused: one line for many requests, one when it accepts again, one when it refuses again", async () => {
    const port = await freePort();
    const key = `127.0.0.1:${port}`;
    await mantrid.set("refused.test", ["proxy", { backends: [key], attempts: 1 }, false]);

    expect(await statuses(5)).toEqual([502, 502, 502, 502, 502]);
    expect(about(key)).toEqual([`warn  backend ${key} refuses connections`]);

    const backend = await namedBackend("back", port);
    expect(await statuses(3)).toEqual([200, 200, 200]);
    await backend.close();
    expect(await statuses(3)).toEqual([502, 502, 502]);
    expect(about(key)).toEqual([
      `warn  backend ${key} refuses connections`,
      `info  backend ${key} accepts connections again`,
      `warn  backend ${key} refuses connections`,
    ]);
  });
});

test("each new reason is logged once; success is logged only after a failure", () => {
  const states = new BackendStates();
  const state = states.get("10.0.0.9:80");
  states.connected(state);
  states.connectFailed(state, "timed out");
  states.connectFailed(state, "timed out");
  states.connectFailed(state, "refused");
  states.connectFailed(state, "connect EHOSTUNREACH 10.0.0.9:80");
  states.connected(state);
  states.connected(state);
  expect(about("10.0.0.9:80")).toEqual([
    "warn  backend 10.0.0.9:80 does not accept connections within connect_timeout",
    "warn  backend 10.0.0.9:80 refuses connections",
    "warn  backend 10.0.0.9:80 cannot be connected to (connect EHOSTUNREACH 10.0.0.9:80)",
    "info  backend 10.0.0.9:80 accepts connections again",
  ]);
});
