/**
 * `mantrid client top` against a real server with known traffic: the table
 * once (`--once`, or output that is no terminal), its order, and the live
 * view drawn on a stand-in screen whose keys the test presses.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { COMMANDS } from "../../src/client/commands.ts";
import type { Screen } from "../../src/client/screen.ts";
import { createContext } from "../../src/client/session.ts";
import { bytes, frame, top, topRows, topTable } from "../../src/client/top.ts";
import type { StatsView } from "../../src/management/stats-routes.ts";
import { startMantrid, type TestMantrid } from "../support/mantrid.ts";
import { client } from "./harness.ts";

let mantrid: TestMantrid;
beforeAll(async () => {
  mantrid = await startMantrid();
  await mantrid.set("busy.test", ["empty", { code: 200 }, false]);
  await mantrid.set("some.test", ["empty", { code: 204 }, false]);
  await mantrid.set("err.test", ["empty", { code: 503 }, false]);
  await mantrid.set("idle.test", ["empty", { code: 200 }, false]);
  await send("busy.test", 9);
  await send("err.test", 6);
  await send("some.test", 3);
  mantrid.running.sampleRates();
});
afterAll(() => mantrid.stop());

async function send(host: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const response = await fetch(`http://127.0.0.1:${mantrid.port}/`, { headers: { Host: host } });
    await response.arrayBuffer();
  }
}

const run = (...args: string[]) => client(["--url", mantrid.url, "top", ...args]);

/** The hosts of a table, in its order. */
const hostsOf = (stdout: string) =>
  stdout
    .trimEnd()
    .split("\n")
    .slice(1)
    .map((line) => line.split(/ +/)[0]);

describe("once", () => {
  test("--once prints the hosts with traffic, busiest first, and exits 0", async () => {
    const { code, stdout, stderr } = await run("--once");
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const lines = stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^HOST +REQ\/S +1s +60s +OUT\/S +IN\/S +ERR\/S +AVG MS +OPEN$/);
    expect(hostsOf(stdout)).toEqual(["busy.test", "err.test", "some.test"]);
    // busy.test: 9 requests in the last minute, so 0.15 a second over 60 s; none open.
    expect(lines[1]!.split(/ +/)[3]).toBe("0.15");
    expect(lines[1]!.split(/ +/).at(-1)).toBe("0");
  });

  test("output that is no terminal gets the table once, as with --once", async () => {
    const { code, stdout } = await run();
    expect(code).toBe(0);
    expect(hostsOf(stdout)).toEqual(["busy.test", "err.test", "some.test"]);
  });

  test("--sort errors puts the failing host first; bytes and latency are orders too", async () => {
    expect(hostsOf((await run("--sort", "errors", "--once")).stdout)[0]).toBe("err.test");
    for (const sort of ["bytes", "latency", "req"]) {
      const { code, stdout } = await run(`--sort=${sort}`, "--once");
      expect(code).toBe(0);
      expect(hostsOf(stdout).sort()).toEqual(["busy.test", "err.test", "some.test"]);
    }
  });

  test("--json prints the API's answer: the active hosts with their rates", async () => {
    const { code, stdout } = await run("--json");
    expect(code).toBe(0);
    const answer = JSON.parse(stdout) as Record<string, StatsView>;
    expect(Object.keys(answer).sort()).toEqual(["busy.test", "err.test", "some.test"]);
    expect(answer["busy.test"]!.rates!.requests_per_second["60s"]).toBe(0.15);
  });

  test("an unknown order is a usage error", async () => {
    expect(await run("--sort", "speed")).toMatchObject({
      code: 2,
      stderr:
        'mantrid client: --sort takes req, bytes, errors or latency, not "speed"; see mantrid client --help\n',
    });
    expect((await run("extra")).code).toBe(2);
  });

  test("is in the client's table and help", async () => {
    expect(COMMANDS.top).toBeDefined();
    const { stdout } = await client(["top", "--help"]);
    expect(stdout).toContain("--sort");
    expect(stdout).toContain("--once");
  });
});

/** A screen that keeps what is written and lets the test press keys. */
function fakeScreen(columns = 100, rows = 20) {
  const writes: string[] = [];
  let press: (key: string) => void = () => {};
  let released = false;
  const { promise: firstFrame, resolve: drawn } = Promise.withResolvers<void>();
  const screen: Screen = {
    columns,
    rows,
    write(text) {
      writes.push(text);
      if (text.includes("HOST")) drawn();
    },
    listen(onKey) {
      press = onKey;
      return () => {
        released = true;
      };
    },
  };
  return {
    screen,
    writes,
    press: (key: string) => press(key),
    firstFrame,
    released: () => released,
  };
}

describe("live", () => {
  test("draws the table, re-sorts on a key, and gives the terminal back on q", async () => {
    const fake = fakeScreen();
    const context = createContext({ url: mantrid.url }, { stdout: () => {} });
    const running = top(context, {}, fake.screen);
    await fake.firstFrame;
    fake.press("e");
    fake.press("q");
    expect(await running).toBe(0);
    expect(fake.released()).toBe(true);

    // The alternate screen first, then frames drawn from the cursor's home, then back.
    expect(fake.writes[0]).toBe("\x1b[?1049h\x1b[?25l");
    expect(fake.writes.at(-1)).toBe("\x1b[?25h\x1b[?1049l");
    const frames = fake.writes.slice(1, -1);
    expect(frames.length).toBeGreaterThanOrEqual(2);
    for (const text of frames) expect(text.startsWith("\x1b[H")).toBe(true);
    const hosts = (text: string) =>
      text
        .split("\r\n")
        .slice(3)
        .map((line) => line.split(" ")[0]);
    expect(hosts(frames[0]!)).toEqual(["busy.test", "err.test", "some.test"]);
    expect(frames[0]).toContain("by req/s");
    expect(hosts(frames.at(-1)!)[0]).toBe("err.test");
    expect(frames.at(-1)).toContain("by errors/s");
  });

  test("Ctrl-C leaves as q does", async () => {
    const fake = fakeScreen();
    const context = createContext({ url: mantrid.url }, { stdout: () => {} });
    const running = top(context, { sort: "bytes" }, fake.screen);
    await fake.firstFrame;
    fake.press("\x03");
    expect(await running).toBe(0);
    expect(fake.writes.at(-1)).toBe("\x1b[?25h\x1b[?1049l");
  });
});

describe("layout", () => {
  const view = (open: number, perSecond: number): StatsView => ({
    open_requests: open,
    completed_requests: 0,
    bytes_sent: 0,
    bytes_received: 0,
    rates: {
      requests_per_second: { "1s": perSecond, "10s": perSecond, "60s": perSecond },
      bytes_sent_per_second: { "1s": 0, "10s": 0, "60s": 0 },
      bytes_received_per_second: { "1s": 0, "10s": 0, "60s": 0 },
      errors_per_second: { "1s": 0, "10s": 0, "60s": 0 },
      latency_ms: { "1s": null, "10s": null, "60s": null },
    },
  });
  const records = {
    "a-very-long-hostname-indeed.example.com": view(0, 5),
    "b.test": view(0, 50),
    "spinning.test": view(2, 0),
    "idle.test": view(0, 0),
  };

  test("a host with open requests shows even with no rate; an idle one does not", () => {
    expect(topRows(records, "req").map((row) => row.host)).toEqual([
      "b.test",
      "a-very-long-hostname-indeed.example.com",
      "spinning.test",
    ]);
  });

  test("a width cuts long names, never a line past it", () => {
    const lines = topTable(topRows(records, "req"), 80);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
    expect(lines.some((line) => line.includes("…"))).toBe(true);
  });

  test("the live frame fits the screen and says how many rows did not", () => {
    const lines = frame(records, null, "req", 60, 4);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toContain("3 hosts, 2 not shown");
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(60);
    expect(frame(null, "cannot connect", "req", 80, 10)[1]).toBe("cannot connect");
  });

  test("bytes get a binary unit", () => {
    expect([0, 512, 1536, 12.5 * 1024 * 1024, 150 * 1024 ** 3].map(bytes)).toEqual([
      "0",
      "512",
      "1.5K",
      "12.5M",
      "150G",
    ]);
  });
});
