/**
 * `mantrid client backends`, `drain`, `disable` and `enable`, against a real
 * server: run as the plain functions, and through the client's command line
 * once added to its command table.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { BACKEND_COMMANDS, backends, drain, enable } from "../../src/client/backends.ts";
import { COMMANDS } from "../../src/client/commands.ts";
import { Failure } from "../../src/client/errors.ts";
import { createContext } from "../../src/client/session.ts";
import { namedBackend, type TestBackend } from "../support/backend.ts";
import { startMantrid, type TestMantrid } from "../support/mantrid.ts";
import { client } from "./harness.ts";

let mantrid: TestMantrid;
let a: TestBackend;
let A: string;
beforeAll(async () => {
  mantrid = await startMantrid();
  a = await namedBackend("a");
  A = `127.0.0.1:${a.port}`;
  await mantrid.set("a.test", ["proxy", { backends: [A, "[::1]:9"] }, false]);
  await mantrid.set("b.test", ["proxy", { backends: [A] }, false]);
});
afterAll(async () => {
  await mantrid.stop();
  await a.close();
});

/** A context on the real API, with what it printed. */
function context(json = false) {
  let out = "";
  const made = createContext({ url: mantrid.url, json }, { stdout: (text) => (out += text) });
  return { context: made, printed: () => out };
}

describe("as functions", () => {
  test("backends prints a table of every address, or of one", async () => {
    const { context: c, printed } = context();
    expect(await backends(c, {})).toBe(0);
    const lines = printed().trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ADDRESS +STATE +ACTIVE +REQUESTS +FAILURES +LAST CHECK +RULES$/);
    expect(lines.slice(1).map((line) => line.split(/ +/))).toEqual([
      [A, "up", "0", "0", "0", "-", "a.test,b.test"],
      ["[::1]:9", "up", "0", "0", "0", "-", "a.test"],
    ]);
    const one = context();
    expect(await backends(one.context, { address: "[::1]:9" })).toBe(0);
    expect(one.printed().trimEnd().split("\n")).toHaveLength(2);
  });

  test("drain and enable print the answer in one line", async () => {
    const { context: c, printed } = context();
    expect(await drain(c, { address: A })).toBe(0);
    expect(await enable(c, { address: A })).toBe(0);
    expect(printed()).toBe(`draining ${A}: 0 in flight\nenabled ${A}: up\n`);
  });

  test("--json prints the API's answer as it is", async () => {
    const { context: c, printed } = context(true);
    await drain(c, { address: A });
    expect(JSON.parse(printed())).toEqual({ state: "draining", in_flight: 0 });
    await enable(c, { address: A });
  });

  test("an address that is none fails before anything is sent; an unknown one with the server's line", async () => {
    const { context: c } = context();
    await expect(drain(c, { address: "nowhere" })).rejects.toThrow(Failure);
    await expect(drain(c, { address: "nowhere" })).rejects.toThrow(/invalid address "nowhere"/);
    await expect(drain(c, { address: "127.0.0.1:1" })).rejects.toThrow(
      "no proxy rule names the backend 127.0.0.1:1",
    );
  });
});

describe("on the command line", () => {
  test("the commands are in the client's table", () => {
    for (const name of Object.keys(BACKEND_COMMANDS)) expect(COMMANDS[name]).toBeDefined();
  });
  const run = (...args: string[]) => client(["--url", mantrid.url, ...args]);

  test("disable, backends, enable", async () => {
    expect(await run("disable", A)).toEqual({
      code: 0,
      stdout: `disabled ${A}: 0 in flight\n`,
      stderr: "",
    });
    const table = await run("backends");
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^${A.replaceAll(".", "\\.")} +disabled +0 `, "m"));
    expect((await run("enable", A)).stdout).toBe(`enabled ${A}: up\n`);
    expect(await run("drain", "127.0.0.1:1")).toMatchObject({
      code: 1,
      stderr: "mantrid client: no proxy rule names the backend 127.0.0.1:1\n",
    });
    expect((await run("drain")).code).toBe(2);
  });
});
