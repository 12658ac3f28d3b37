/** The command line of the compiled executable: help, version, refusals, and the client's flags and waits. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULTS } from "../../src/config/config.ts";
import { KEY_NAMES } from "../../src/config/file.ts";
import { VERSION } from "../../src/version.ts";
import { closedPort } from "../management/harness.ts";
import { ensureBinary, type RunningBinary, runBinary, startBinary } from "../support/binary.ts";

let dir: string;
beforeAll(async () => {
  ensureBinary();
  dir = await mkdtemp(join(tmpdir(), "mantrid-cli-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("help and version", () => {
  test("mantrid help, and --help, print the usage with every command", async () => {
    for (const args of [["help"], ["--help"], ["-h"]]) {
      const run = await runBinary(args);
      expect(run).toMatchObject({ code: 0, stderr: "" });
      expect(run.stdout).toContain("USAGE mantrid [OPTIONS] serve|client|help");
      expect(run.stdout).toContain("-v, --version");
      expect(run.stdout).not.toContain("\x1b");
    }
  });

  test("mantrid help client, mantrid client help and mantrid client --help are the client's", async () => {
    const outputs = await Promise.all(
      [
        ["help", "client"],
        ["client", "help"],
        ["client", "--help"],
        ["--help", "client"],
      ].map((args) => runBinary(args)),
    );
    for (const run of outputs) {
      expect(run.code).toBe(0);
      expect(run.stdout).toContain("USAGE mantrid client [OPTIONS] list|get|set|delete");
    }
    expect(new Set(outputs.map((run) => run.stdout)).size).toBe(1);
  });

  test("-v and --version print the version and exit 0", async () => {
    for (const flag of ["-v", "--version"]) {
      expect(await runBinary([flag])).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: "" });
    }
  });

  test("serve --help shows the defaults, --workers, and the keys only the file sets", async () => {
    const run = await runBinary(["serve", "--help"]);
    expect(run.code).toBe(0);
    const help = run.stdout;
    expect(help).toContain("USAGE mantrid serve [OPTIONS]");
    expect(help).toContain(`(default: ${DEFAULTS.stateFile})`);
    expect(help).toContain(`(default: ${DEFAULTS.staticDir})`);
    expect(help).toContain("(default: 127.0.0.1:8042, [::1]:8042)");
    expect(help).toMatch(/--workers=<n>\s+Processes sharing the listeners \(default: 1\)/);
    expect(help).toContain("README");
    // Every key is either a flag's or named as set in the file only.
    const flagKeys = [
      "bind",
      "bind_internal",
      "bind_management",
      "bind_tls",
      "state_file",
      "static_dir",
    ];
    const fileOnly = KEY_NAMES.filter(
      (key) => ![...flagKeys, "workers", "management_token", "debug", "access_log"].includes(key),
    );
    expect(fileOnly).toContain("connect_timeout");
    const keysText = help.slice(help.indexOf("set in the file only")).replace(/\s+/g, " ");
    expect(keysText).toContain(fileOnly.join(", "));
  });
});

describe("refusals", () => {
  test("an unknown flag is one line and a non-zero exit, wherever it is", async () => {
    const cases: [string[], number, string][] = [
      [["--bnid", "x"], 1, "mantrid: unknown option --bnid; see mantrid --help\n"],
      [["serve", "--bnid=x"], 1, "mantrid: unknown option --bnid; see mantrid --help\n"],
      [["-x"], 1, "mantrid: unknown option -x; see mantrid --help\n"],
      [
        ["client", "--colour", "list"],
        2,
        "mantrid client: unknown option --colour; see mantrid client --help\n",
      ],
      [
        ["client", "list", "--colour"],
        2,
        "mantrid client: unknown option --colour; see mantrid client --help\n",
      ],
      [["client", "-v"], 2, "mantrid client: unknown option -v; see mantrid client --help\n"],
      [
        ["--bind", "x", "serve"],
        1,
        "mantrid: the options go after the command: mantrid serve --bind x; see mantrid --help\n",
      ],
      [
        ["--debug", "client", "list"],
        1,
        "mantrid: --debug is for serve, not client; see mantrid --help\n",
      ],
    ];
    for (const [args, code, stderr] of cases) {
      expect(await runBinary(args)).toEqual({ code, stdout: "", stderr });
    }
  });

  test("an unknown command, or an argument serve does not take, is refused", async () => {
    expect(await runBinary(["frob"])).toEqual({
      code: 1,
      stdout: "",
      stderr: 'mantrid: unknown command "frob"; see mantrid --help\n',
    });
    expect((await runBinary(["serve", "extra"])).stderr).toBe(
      'mantrid: unexpected argument "extra"; see mantrid --help\n',
    );
    expect((await runBinary(["help", "frob"])).code).toBe(1);
  });
});

describe("the client against a running server", () => {
  let server: RunningBinary;
  beforeAll(async () => {
    server = await startBinary([], dir);
  });
  afterAll(() => server.stop("SIGKILL"));

  const client = (...args: string[]) => runBinary(["client", ...args]);

  test("--url, --token and --json before or after the command", async () => {
    expect(
      await client("--url", server.api, "set", "a.test", "empty", "false", "code=204"),
    ).toEqual({ code: 0, stdout: "set a.test: empty<204>\n", stderr: "" });
    expect(await client("set", "b.test", "spin", "true", "--url", server.api)).toEqual({
      code: 0,
      stdout: "set b.test and its subdomains: spin\n",
      stderr: "",
    });
    const before = await client(
      "--json",
      "--url",
      server.api,
      "--token",
      "unused",
      "get",
      "a.test",
    );
    const after = await client("get", "a.test", "--json", `--url=${server.api}`, "--token=unused");
    expect(before).toEqual({ code: 0, stdout: '["empty",{"code":204},false]\n', stderr: "" });
    expect(after).toEqual(before);
    expect(await client("delete", "b.test", "--url", server.api)).toEqual({
      code: 0,
      stdout: "deleted b.test\n",
      stderr: "",
    });
  });

  test("--url at the traffic port says it is not the management API", async () => {
    const url = `http://127.0.0.1:${server.port}`;
    const run = await client("--url", url, "list");
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr.split("\n")).toHaveLength(2);
    expect(run.stderr).toStartWith(
      `mantrid client: the server at ${url} is not a Mantrid management API (it answered 503 `,
    );
    expect(run.stderr).toContain("--url");
  });
});

test("address flags repeat, and each adds to the list", async () => {
  const server = await startBinary(["--bind", "127.0.0.1:0,127.0.0.1:0"]);
  try {
    expect(server.log().match(/listening on /g)).toHaveLength(3);
  } finally {
    await server.stop("SIGKILL");
  }
});

test("client --wait waits for a server started after it", async () => {
  const port = await closedPort();
  const api = `http://127.0.0.1:${port}`;
  const waiting = Bun.spawn(
    [
      ensureBinary(),
      "client",
      "--wait",
      "--url",
      api,
      "set",
      "late.test",
      "static",
      "false",
      "type=test",
    ],
    { stdout: "pipe", stderr: "pipe", stdin: "ignore" },
  );
  const folder = await mkdtemp(join(dir, "wait-"));
  const server = Bun.spawn(
    [
      ensureBinary(),
      "--bind",
      "127.0.0.1:0",
      "--management",
      `127.0.0.1:${port}`,
      "--state-file",
      join(folder, "state.json"),
    ],
    { stdout: "ignore", stderr: "ignore", stdin: "ignore" },
  );
  try {
    const [code, stdout, stderr] = await Promise.all([
      waiting.exited,
      new Response(waiting.stdout).text(),
      new Response(waiting.stderr).text(),
    ]);
    expect({ code, stdout, stderr }).toEqual({
      code: 0,
      stdout: "set late.test: static<test>\n",
      stderr: "",
    });
  } finally {
    waiting.kill("SIGKILL");
    server.kill("SIGKILL");
    await server.exited;
  }
});
