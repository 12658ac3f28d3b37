import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Harness, startHarness } from "../management/harness.ts";
import { client } from "./harness.ts";

let h: Harness;
let run: (...args: string[]) => ReturnType<typeof client>;
beforeEach(async () => {
  h = await startHarness();
  run = (...args) => client(["--url", h.url, ...args]);
});
afterEach(() => h.close());

const DONE = { code: 0, stdout: "", stderr: "" };
/** A command that changes rules says so in one line. */
const said = (line: string) => ({ ...DONE, stdout: `${line}\n` });

async function setAll(): Promise<void> {
  const sets: [string[], string][] = [
    [
      ["a.com", "proxy", "false", "backends=[::1]:8000,b.internal:80", "attempts=2"],
      "set a.com: proxy<[::1]:8000,b.internal:80>",
    ],
    [["b.com", "static", "TRUE", "type=test"], "set b.com and its subdomains: static<test>"],
    [
      ["c.com", "redirect", "false", "redirect_to=https://x.com/?a=b"],
      "set c.com: redirect<https://x.com/?a=b>",
    ],
    [["D.com.", "empty", "true", "code=204"], "set d.com and its subdomains: empty<204>"],
    [["e.com", "spin", "true"], "set e.com and its subdomains: spin"],
    [["http://ep.io", "unknown", "False"], "set http://ep.io: unknown"],
  ];
  for (const [args, line] of sets) expect(await run("set", ...args)).toEqual(said(line));
}

const RULE_HEADER = "HOST                                ACTION                    SUBDOMS \n";

describe("set", () => {
  test("stores the rule, options normalised by the schema", async () => {
    await setAll();
    expect(h.registry.get("a.com")).toEqual([
      "proxy",
      {
        backends: [
          ["::1", 8000],
          ["b.internal", 80],
        ],
        attempts: 2,
        delay: 1,
      },
      false,
    ]);
    // Only the first "=" splits: the value keeps the rest.
    expect(h.registry.get("c.com")).toEqual([
      "redirect",
      { redirect_to: "https://x.com/?a=b" },
      false,
    ]);
    expect(h.registry.get("d.com")).toEqual(["empty", { code: 204 }, true]);
    expect(h.registry.get("http://ep.io")).toEqual(["unknown", {}, false]);
  });

  test("replaces an existing rule", async () => {
    await run("set", "a.com", "empty", "true", "code=500");
    await run("set", "a.com", "empty", "false", "code=404");
    expect(h.registry.get("a.com")).toEqual(["empty", { code: 404 }, false]);
  });
});

test("list prints the original's table, sorted by host", async () => {
  await run("set", "b.com", "static", "true", "type=test");
  await run("set", "http://ep.io", "unknown", "false");
  expect(await run("list")).toEqual({
    code: 0,
    stderr: "",
    stdout:
      RULE_HEADER +
      "b.com                               static<test>              true    \n" +
      "http://ep.io                        unknown                   false   \n",
  });
});

test("list widens a column to its widest cell, keeping every row aligned", async () => {
  await setAll();
  const long = `${"x".repeat(40)}.example.com`;
  await run("set", long, "spin", "false");
  // The host column is as wide as the long name, the action column as the proxy's backends.
  const row = (host: string, action: string, subdomains: string) =>
    `${host.padEnd(long.length)} ${action.padEnd(31)} ${subdomains.padEnd(8)}\n`;
  expect(await run("list")).toEqual({
    ...DONE,
    stdout:
      row("HOST", "ACTION", "SUBDOMS") +
      row("a.com", "proxy<[::1]:8000,b.internal:80>", "false") +
      row("b.com", "static<test>", "true") +
      row("c.com", "redirect<https://x.com/?a=b>", "false") +
      row("d.com", "empty<204>", "true") +
      row("e.com", "spin", "true") +
      row("http://ep.io", "unknown", "false") +
      row(long, "spin", "false"),
  });
});

test("list of no rules is the header alone", async () => {
  expect(await run("list")).toEqual({ ...DONE, stdout: RULE_HEADER });
});

test("get prints one row, and finds keys by any spelling", async () => {
  await setAll();
  const row = "d.com                               empty<204>                true    \n";
  expect(await run("get", "d.com")).toEqual({ ...DONE, stdout: RULE_HEADER + row });
  expect(await run("get", "D.COM.")).toEqual({ ...DONE, stdout: RULE_HEADER + row });
  expect((await run("get", "http://ep.io")).stdout).toEndWith(
    "http://ep.io                        unknown                   false   \n",
  );
});

test("delete removes the rule", async () => {
  await setAll();
  expect(await run("delete", "http://ep.io")).toEqual(said("deleted http://ep.io"));
  expect(await run("delete", "B.com")).toEqual(said("deleted b.com"));
  expect(Object.keys(h.registry.all()).sort()).toEqual(["a.com", "c.com", "d.com", "e.com"]);
});

describe("stats", () => {
  const HEADER =
    "HOST                                OPEN        COMPLETED   BYTES IN    BYTES OUT  \n";

  beforeEach(async () => {
    await run("set", "quiet.com", "spin", "false");
    const busy = h.stats.of("busy.com");
    busy.open_requests = 2;
    busy.completed_requests = 1234;
    busy.bytes_received = 5678;
    busy.bytes_sent = 123456789;
  });

  test("of every host, bytes in before bytes out", async () => {
    expect(await run("stats")).toEqual({
      ...DONE,
      stdout:
        HEADER +
        "busy.com                            2           1234        5678        123456789  \n" +
        "quiet.com                           0           0           0           0          \n",
    });
  });

  test("of one host", async () => {
    expect(await run("stats", "Quiet.com")).toEqual({
      ...DONE,
      stdout: `${HEADER}quiet.com                           0           0           0           0          \n`,
    });
  });
});

test("dump prints the rule set as pretty JSON, which load takes back", async () => {
  await setAll();
  const dumped = await run("dump");
  expect(dumped.code).toBe(0);
  expect(dumped.stdout).toStartWith('{\n  "a.com": [\n    "proxy",\n');
  expect(JSON.parse(dumped.stdout)).toEqual(h.registry.all());
  const before = h.registry.all();

  await run("set", "extra.com", "spin", "true");
  expect(await client(["--url", h.url, "load"], { stdin: dumped.stdout })).toEqual(
    said("loaded 6 rules"),
  );
  expect(h.registry.all()).toEqual(before);
});

describe("load", () => {
  const rules = { "a.com": ["empty", { code: "204" }, true], "B.com": ["spin", {}, false] };

  test("from a file replaces every rule", async () => {
    await run("set", "old.com", "spin", "true");
    const file = join(h.stateDir, "rules.json");
    await writeFile(file, JSON.stringify(rules));
    expect(await run("load", file)).toEqual(said("loaded 2 rules"));
    expect(h.registry.all()).toEqual({
      "a.com": ["empty", { code: 204 }, true],
      "b.com": ["spin", { timeout: 120, check_interval: 1 }, false],
    });
  });

  test("from stdin with -", async () => {
    const text = JSON.stringify(rules);
    expect(await client(["--url", h.url, "load", "-"], { stdin: text })).toEqual(
      said("loaded 2 rules"),
    );
    expect(h.registry.size).toBe(2);
  });

  test("the rules of a state file", async () => {
    const state = JSON.stringify({ hosts: rules, stats: {} });
    expect(await client(["--url", h.url, "load"], { stdin: state })).toEqual(
      said("loaded 2 rules"),
    );
    expect(Object.keys(h.registry.all()).sort()).toEqual(["a.com", "b.com"]);
  });
});
