/**
 * The running server's side of a takeover, driven step by step by a stand-in
 * successor speaking the protocol over the real socket: writes refused while
 * the state is in passage, the lock free exactly then, the state taken back
 * when the successor gives up, misses a deadline or talks nonsense.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { connect as connectSocket } from "node:net";
import { parseRule } from "../../src/rules/schema.ts";
import { lockStateFile } from "../../src/store/lock.ts";
import { Channel } from "../../src/takeover/channel.ts";
import { DEADLINES } from "../../src/takeover/deadlines.ts";
import { takeoverSocketPath } from "../../src/takeover/protocol.ts";
import { WritesPaused } from "../../src/takeover/write-gate.ts";
import { startMantrid, type TestMantrid } from "../support/mantrid.ts";
import { catchServerLog } from "../support/stderr.ts";
import { waitFor } from "../support/wait.ts";
import { connect, parseResponses } from "../support/wire.ts";

const logged = catchServerLog();
let server: TestMantrid;
const defaults = { ...DEADLINES };
beforeEach(async () => {
  server = await startMantrid();
  await server.set("a.test", ["empty", { code: 204 }, false]);
});
afterEach(async () => {
  Object.assign(DEADLINES, defaults);
  await server.stop();
});

const socketPath = () => takeoverSocketPath(server.config.stateFile);

/** A successor that has been greeted; returns its channel and what it was told. */
async function greeted() {
  const channel = await Channel.connect(socketPath(), 5000);
  channel.send({ type: "hello", pid: process.pid, version: "test" });
  const welcome = await channel.next(["welcome"], 5000, "welcome");
  return { channel, welcome };
}

async function released() {
  const { channel, welcome } = await greeted();
  channel.send({ type: "release" });
  await channel.next(["released"], 5000, "released");
  return { channel, welcome };
}

async function put(host: string, rule: unknown[]): Promise<Response> {
  return fetch(`${server.url}/hostname/${host}/`, { method: "PUT", body: JSON.stringify(rule) });
}

async function statusOf(host: string): Promise<number | undefined> {
  const connection = await connect(server.port);
  connection.send(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  return parseResponses(await connection.closed)[0]?.status;
}

/** Resolves once a logged line matches. */
function logLine(pattern: RegExp): Promise<void> {
  return waitFor(() => logged.some((text) => pattern.test(text)), `a log line ${pattern}`);
}

test("the socket beside the state file is its owner's only", () => {
  expect(statSync(socketPath()).mode & 0o777).toBe(0o600);
});

test("the welcome names every listener with the port it got", async () => {
  const { channel, welcome } = await greeted();
  expect(welcome.pid).toBe(process.pid);
  expect(welcome.graceSeconds).toBe(server.config.shutdownGrace);
  expect(welcome.listeners.bind).toEqual([
    { text: "127.0.0.1:0", host: "127.0.0.1", port: server.port },
  ]);
  expect(welcome.listeners.internal[0]!.port).toBe(server.internalPort);
  expect(welcome.listeners.management[0]!.port).toBe(server.running.ports.management[0]!);
  channel.close();
});

test("once released, changes are refused with a 503 and the lock is free; given up, all is as before", async () => {
  const { channel } = await released();
  const refused = await put("a.test", ["empty", { code: 205 }, false]);
  expect(refused.status).toBe(503);
  expect(refused.headers.get("retry-after")).toBe("1");
  expect(((await refused.json()) as { error: string }).error).toContain("a takeover is under way");
  // A change that got past the API's check before it closed is refused where it is saved.
  const rule = parseRule(["empty", { code: 206 }, false]);
  if (!rule.ok) throw new Error("a valid rule");
  await expect(server.running.registry.set("a.test", rule.value)).rejects.toBeInstanceOf(
    WritesPaused,
  );
  // Traffic is still served, with the rules as they were.
  expect(await statusOf("a.test")).toBe(204);
  // The lock is free: the successor may take it. Here it gives up instead.
  lockStateFile(server.config.stateFile).release();
  channel.abort("cannot bind");
  await logLine(/the takeover by pid \d+ failed \(cannot bind\)/);
  await logLine(/carrying on as before/);
  expect((await put("a.test", ["empty", { code: 205 }, false])).status).toBe(200);
  expect(await statusOf("a.test")).toBe(205);
  // The socket is back for the next one.
  (await greeted()).channel.close();
});

test("a successor that never says it is ready is given up at the deadline", async () => {
  DEADLINES.readyMs = 100;
  const { channel } = await released();
  await expect(channel.next(["committed"], 5000, "committed")).rejects.toThrow(
    "the takeover was given up: no ready within 0.1 s",
  );
  await logLine(/carrying on as before/);
  expect((await put("b.test", ["empty", { code: 204 }, false])).status).toBe(200);
});

test("a successor that goes away with the lock released is given up too", async () => {
  const { channel } = await released();
  channel.close();
  await logLine(/the takeover by pid \d+ failed \(the other process went away\)/);
  await logLine(/carrying on as before/);
  expect((await put("b.test", ["empty", { code: 204 }, false])).status).toBe(200);
});

test("one takeover at a time: a second successor is refused while the first goes on", async () => {
  const first = await greeted();
  const second = await Channel.connect(socketPath(), 5000);
  second.send({ type: "hello", pid: process.pid, version: "test" });
  const answer = await second.next(["welcome", "refused"], 5000, "an answer");
  expect(answer).toEqual({ type: "refused", reason: `pid ${process.pid} is taking over already` });
  first.channel.close();
});

test("a line that is not the protocol ends the conversation, and nothing else", async () => {
  const raw = connectSocket(socketPath());
  raw.write('{"type":"hello","pid":"me"}\n');
  const said = await new Promise<string>((resolve) => {
    let text = "";
    raw.on("data", (chunk) => {
      text += chunk;
    });
    raw.on("close", () => resolve(text));
  });
  expect(said).toContain('"type":"abort"');
  expect(said).toContain('malformed \\"hello\\" message');
  // The server carries on, and greets the next one.
  expect((await put("c.test", ["empty", { code: 204 }, false])).status).toBe(200);
  (await greeted()).channel.close();
});

test("committed: the server stops, and passes on what it counted after its last save", async () => {
  const { channel } = await released();
  // Answered after the state was saved: the successor would not find these in the file.
  expect(await statusOf("a.test")).toBe(204);
  expect(await statusOf("a.test")).toBe(204);
  const superseded = server.running.superseded;
  channel.send({ type: "ready" });
  await channel.next(["committed"], 5000, "committed");
  expect(await superseded).toBe(process.pid);
  expect(server.running.successorPid()).toBe(process.pid);
  await server.stop();
  const bye = await channel.next(["bye"], 5000, "bye");
  expect(bye.counters["a.test"]?.completed_requests).toBe(2);
});
