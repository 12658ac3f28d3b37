/** Passive ejection: failures of real traffic within a window take a backend out for a while. */
import "../support/quiet.ts";
import { afterEach, expect, spyOn, test } from "bun:test";
import type { TCPSocketListener } from "bun";
import { HealthChecks } from "../../src/backend/health-checks.ts";
import { addressOf } from "../../src/backend/members.ts";
import {
  passiveSettings,
  reportFailure,
  reportSuccess,
  sweepEjections,
} from "../../src/backend/passive.ts";
import { BackendStates, type Health } from "../../src/backend/state.ts";
import { log } from "../../src/log.ts";

const KEY = "10.0.0.1:80";
const S = 1000;
const none = () => false;

function fresh() {
  const states = new BackendStates();
  const state = states.get(KEY);
  const changes: Health[] = [];
  states.onChange((changed) => changes.push(changed.health));
  return { states, state, changes };
}

test("the defaults: 3 failures in 10 s eject for 30 s; no status counts unless listed", () => {
  expect(passiveSettings({})).toEqual({ failures: 3, window: 10, eject: 30, statuses: [] });
  expect(passiveSettings({ failures: 1, statuses: [503] })).toMatchObject({
    failures: 1,
    statuses: [503],
  });
});

test("failures within the window eject the backend", () => {
  const { states, state, changes } = fresh();
  const info = spyOn(log, "info");
  try {
    expect(reportFailure(states, state, {}, 100 * S)).toBe(false);
    expect(reportFailure(states, state, {}, 105 * S)).toBe(false);
    expect(state.health).toBe("up");
    expect(reportFailure(states, state, {}, 109.9 * S)).toBe(true);
    expect(state.health).toBe("down");
    expect(state.usable).toBe(false);
    expect(state.ejectedUntil).toBe(139.9 * S);
    expect(state.failures).toBe(3);
    expect(state.recentFailures).toEqual([]);
    expect(changes).toEqual(["down"]);
    expect(info.mock.calls.map(([line]) => line)).toEqual([
      `backend ${KEY} is down: 3 failures in 10 s: ejected for 30 s`,
    ]);
  } finally {
    info.mockRestore();
  }
});

test("failures spread beyond the window do not eject", () => {
  const { states, state, changes } = fresh();
  const passive = { failures: 3, window: 10 };
  for (const at of [0, 6, 12, 18, 24, 30]) reportFailure(states, state, passive, 1000 * S + at * S);
  expect(state.health).toBe("up");
  expect(changes).toEqual([]);
  expect(state.failures).toBe(6);
  // Only what is still within the window is kept.
  expect(state.recentFailures).toEqual([1024 * S, 1030 * S]);
  // Exactly one window apart is not within it.
  const other = fresh();
  for (const at of [0, 5, 10]) reportFailure(other.states, other.state, passive, at * S);
  expect(other.state.health).toBe("up");
  // A third within 10 s of the first two that are left does.
  expect(reportFailure(other.states, other.state, passive, 14 * S)).toBe(true);
});

test("settings of the rule: one failure can eject, for as long as it says", () => {
  const { states, state } = fresh();
  expect(reportFailure(states, state, { failures: 1, eject: 5 }, 50 * S)).toBe(true);
  expect(state.ejectedUntil).toBe(55 * S);
});

test("failures always count, even without passive settings or while down", () => {
  const { states, state, changes } = fresh();
  reportFailure(states, state, null, 0);
  reportFailure(states, state, undefined, 0);
  expect(state.recentFailures).toEqual([]);
  for (let i = 0; i < 5; i++) reportFailure(states, state, { failures: 2 }, i);
  expect(state.failures).toBe(7);
  expect(changes).toEqual(["down"]);
  // Failures while down do not eject again nor move the end of the ejection.
  expect(state.ejectedUntil).toBe(1 + 30 * S);
});

test("a success in between: only failures in a row count", () => {
  const { states, state } = fresh();
  reportFailure(states, state, {}, 0);
  reportFailure(states, state, {}, 1);
  reportSuccess(state);
  expect(reportFailure(states, state, {}, 2)).toBe(false);
  expect(state.health).toBe("up");
});

test("with no active check, the backend comes back once `eject` is over", () => {
  const { states, state, changes } = fresh();
  const other = states.get("10.0.0.2:80");
  for (let i = 0; i < 3; i++) reportFailure(states, state, {}, i * S);
  expect(state.ejectedUntil).toBe(32 * S);
  sweepEjections(states, 31.999 * S, none);
  expect(state.health).toBe("down");
  sweepEjections(states, 32 * S, none);
  expect(state.health).toBe("up");
  expect(state.usable).toBe(true);
  expect(state.ejectedUntil).toBe(0);
  expect(changes).toEqual(["down", "up"]);
  expect(other.health).toBe("up");
  // And it can be ejected again.
  for (let i = 0; i < 3; i++) reportFailure(states, state, {}, 40 * S + i);
  expect(state.health).toBe("down");
});

test("an ejection is per data plane", () => {
  const one = fresh();
  const two = fresh();
  for (let i = 0; i < 3; i++) reportFailure(one.states, one.state, {}, i);
  for (let i = 0; i < 3; i++) reportFailure(two.states, two.state, {}, i);
  sweepEjections(one.states, 60 * S, none);
  expect(one.state.health).toBe("up");
  expect(two.state.health).toBe("down");
});

const listeners: TCPSocketListener<undefined>[] = [];
const registries: HealthChecks[] = [];
afterEach(() => {
  for (const registry of registries.splice(0)) registry.stopAll();
  for (const listener of listeners.splice(0)) listener.stop(true);
});

test("with an active check, the backend stays down for the checker's `rise` to bring back", async () => {
  const states = new BackendStates();
  const checks = new HealthChecks(states);
  registries.push(checks);
  let requests = 0;
  let ejectedAt = 0;
  let afterSweep = null as Health | null;
  const listener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(socket) {
        requests++;
        if (requests === 2) {
          // Real traffic fails while this check is in flight: its pass must not count.
          const now = Date.now();
          for (let i = 0; i < 3; i++) reportFailure(states, state, {}, now);
          ejectedAt = requests;
          // The time is over, but a checker watches this address: it decides.
          sweepEjections(states, now + 60 * S, (key) => checks.has(key));
          afterSweep = state.health;
        }
        socket.end("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
      },
    },
  });
  listeners.push(listener);
  const address = addressOf(["127.0.0.1", listener.port]);
  const state = states.get(address.key);
  const changes: [Health, number][] = [];
  const up = new Promise<void>((resolve) =>
    states.onChange((changed) => {
      changes.push([changed.health, requests]);
      if (changed.health === "up") resolve();
    }),
  );
  checks.acquire(address, { path: "/h", interval: 0.02, rise: 2 });
  await up;
  expect(ejectedAt).toBe(2);
  expect(afterSweep).toBe("down");
  // Down during check 2; checks 3 and 4 are the two passes that bring it back.
  expect(changes).toEqual([
    ["down", 2],
    ["up", 4],
  ]);
  expect(state.ejectedUntil).toBe(0);
  expect(state.usable).toBe(true);
});
