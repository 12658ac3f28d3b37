import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, DEFAULTS } from "../../src/config/config.ts";
import { type ConfigFlags, describeConfig, loadConfig } from "../../src/config/load.ts";

const dir = mkdtempSync(join(tmpdir(), "mantrid-load-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function confFile(text: string): string {
  const path = join(dir, `mantrid-${++files}.conf`);
  writeFileSync(path, text);
  return path;
}

/** No default file, no environment: only what the test passes counts. */
const absent = { defaultConfigPath: join(dir, "absent", "mantrid.conf") };

function load(flags: ConfigFlags, env: Record<string, string | undefined> = {}) {
  return loadConfig(flags, env, absent);
}

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
}

const texts = (list: { text: string }[]) => list.map((address) => address.text);

describe("defaults", () => {
  test("are the original Mantrid's", () => {
    expect(texts(DEFAULTS.bind)).toEqual(["*:80"]);
    expect(DEFAULTS.bind[0]?.host).toBe("::");
    expect(texts(DEFAULTS.bindManagement)).toEqual(["127.0.0.1:8042", "[::1]:8042"]);
    expect(DEFAULTS.bindInternal).toEqual([]);
    expect(DEFAULTS.stateFile).toBe("/var/lib/mantrid/state.json");
    expect(DEFAULTS.staticDir).toBe("/etc/mantrid/static/");
    expect(DEFAULTS).toMatchObject({
      uid: null,
      gid: null,
      connectTimeout: 5,
      backendTimeout: 60,
      idleTimeout: 60,
      headTimeout: 10,
      bodyTimeout: 60,
      sendTimeout: 60,
      lingerTimeout: 2,
      maxConnections: 10000,
      maxSpinning: 10000,
      shutdownGrace: 10,
      managementToken: null,
      insecureManagement: false,
      workers: 1,
      debug: false,
      accessLog: null,
      configFile: null,
    });
  });

  test("apply when there is no file", async () => {
    expect(await load({})).toEqual({ ...DEFAULTS });
  });

  test("the default file is read when it exists", async () => {
    const path = confFile("workers = 3");
    const config = await loadConfig({}, {}, { defaultConfigPath: path });
    expect(config.workers).toBe(3);
    expect(config.configFile).toBe(path);
  });

  test("the loaded config shares nothing with DEFAULTS", async () => {
    const config = await load({});
    config.bind.push({ host: "::", port: 1, text: "*:1" });
    const first = config.bindManagement[0];
    if (first) first.port = 1;
    expect(texts(DEFAULTS.bind)).toEqual(["*:80"]);
    expect(DEFAULTS.bindManagement[0]?.port).toBe(8042);
    expect(Object.isFrozen(DEFAULTS.bind)).toBe(true);
  });
});

describe("the config file", () => {
  test("--config must exist", async () => {
    const path = join(dir, "missing.conf");
    expect(await failure(load({ config: path }))).toBe(`--config: ${path} does not exist`);
  });

  test("--config may not be empty", async () => {
    expect(await failure(load({ config: "" }))).toBe("--config: a path is required");
  });

  test("a directory is reported, not ignored", async () => {
    const folder = join(dir, "a-folder");
    mkdirSync(folder);
    expect(await failure(load({ config: folder }))).toStartWith(`cannot read ${folder}:`);
    const asDefault = loadConfig({}, {}, { defaultConfigPath: folder });
    expect(await failure(asDefault)).toStartWith(`cannot read ${folder}:`);
  });

  test.skipIf(process.getuid?.() === 0)("an unreadable file is reported", async () => {
    const path = confFile("workers = 2");
    chmodSync(path, 0o000);
    expect(await failure(load({ config: path }))).toStartWith(`cannot read ${path}:`);
  });

  test("errors name the file path as given", async () => {
    const path = confFile("# comment\nbind = *:80\nbnd = *:81\n");
    expect(await failure(load({ config: path }))).toStartWith(`${path}:3: unknown key "bnd"`);
  });

  test("settings from the file fill the config", async () => {
    const path = confFile(
      "bind = 127.0.0.1:0\nbind_management = 127.0.0.1:0\nstate_file = ./s.json\nuid = root\ngid = root\nidle_timeout = 5\n",
    );
    const config = await load({ config: path });
    expect(texts(config.bind)).toEqual(["127.0.0.1:0"]);
    expect(texts(config.bindManagement)).toEqual(["127.0.0.1:0"]);
    expect(config.stateFile).toBe("./s.json");
    expect(config.staticDir).toBe(DEFAULTS.staticDir);
    expect(config.uid).toBe(0);
    expect(config.gid).toBe(0);
    expect(config.idleTimeout).toBe(5);
    expect(config.configFile).toBe(path);
  });

  test("account files can be pointed elsewhere", async () => {
    const passwdFile = join(dir, "passwd");
    const groupFile = join(dir, "group");
    writeFileSync(passwdFile, "svc:x:501:501::/:/bin/false\n");
    writeFileSync(groupFile, "svc:x:502:\n");
    const path = confFile("uid = svc\ngid = svc");
    const config = await loadConfig({ config: path }, {}, { ...absent, passwdFile, groupFile });
    expect([config.uid, config.gid]).toEqual([501, 502]);
  });
});

describe("flags", () => {
  const file = confFile(
    [
      "bind = *:80",
      "bind = 127.0.0.1:81",
      "bind_internal = 127.0.0.1:82",
      "bind_management = 127.0.0.1:83",
      "state_file = /file/state.json",
      "static_dir = /file/static",
      "workers = 2",
      "management_token = from-file",
      "debug = true",
      "access_log = /file/access.log",
    ].join("\n"),
  );

  test("override the file key by key", async () => {
    const config = await load({
      config: file,
      bind: "10.0.0.1:1",
      stateFile: "/flag/state.json",
      workers: "8",
    });
    expect(texts(config.bind)).toEqual(["10.0.0.1:1"]);
    expect(texts(config.bindInternal)).toEqual(["127.0.0.1:82"]);
    expect(texts(config.bindManagement)).toEqual(["127.0.0.1:83"]);
    expect(config.stateFile).toBe("/flag/state.json");
    expect(config.staticDir).toBe("/file/static");
    expect(config.workers).toBe(8);
    expect(config.managementToken).toBe("from-file");
    expect(config.debug).toBe(true);
    expect(config.accessLog).toBe("/file/access.log");
  });

  test("every flag", async () => {
    const config = await load({
      config: file,
      bind: ["127.0.0.1:1"],
      bindInternal: "127.0.0.1:2",
      management: "[::1]:3",
      stateFile: "/f/s.json",
      staticDir: "/f/static",
      workers: " 4 ",
      managementToken: "from-flag",
      insecureManagement: true,
      debug: false,
      accessLog: "-",
    });
    expect(config).toMatchObject({
      stateFile: "/f/s.json",
      staticDir: "/f/static",
      workers: 4,
      managementToken: "from-flag",
      insecureManagement: true,
      debug: false,
      accessLog: "-",
      configFile: file,
    });
    expect(texts(config.bind)).toEqual(["127.0.0.1:1"]);
    expect(texts(config.bindInternal)).toEqual(["127.0.0.1:2"]);
    expect(texts(config.bindManagement)).toEqual(["[::1]:3"]);
  });

  test("repeated flags and comma lists both add addresses", async () => {
    const config = await load({
      bind: ["127.0.0.1:1", "[::1]:2, *:3"],
      management: "127.0.0.1:4,[::1]:5",
    });
    expect(texts(config.bind)).toEqual(["127.0.0.1:1", "[::1]:2", "*:3"]);
    expect(texts(config.bindManagement)).toEqual(["127.0.0.1:4", "[::1]:5"]);
  });

  test("an empty list counts as not given", async () => {
    const config = await load({ config: file, bind: [] });
    expect(texts(config.bind)).toEqual(["*:80", "127.0.0.1:81"]);
  });

  test.each<[ConfigFlags, string]>([
    [{ bind: "x" }, `--bind: "x" is not an address: expected host:port, [ipv6]:port or *:port`],
    [
      { bind: ["*:80", "*:99999"] },
      `--bind: "*:99999" has port "99999": a port is a number from 0 to 65535`,
    ],
    [{ bindInternal: "1.2.3.4" }, `--bind-internal: "1.2.3.4" is not an address`],
    [{ management: "*:80," }, `--management: empty address in "*:80,"`],
    [{ workers: "0" }, `--workers: "0" is not a positive whole number`],
    [{ workers: "two" }, `--workers: "two" is not a positive whole number`],
    [{ stateFile: "" }, "--state-file: a path is required"],
    [{ staticDir: "" }, "--static-dir: a path is required"],
    [{ accessLog: "" }, "--access-log: a path is required"],
    [{ managementToken: "" }, "--management-token: the token is empty"],
    [{ managementToken: "a b" }, "--management-token: the token must not contain white space"],
  ])("%j is rejected", async (flags, message) => {
    expect(await failure(load(flags))).toStartWith(message);
  });
});

describe("MANTRID_MANAGEMENT_TOKEN", () => {
  test("is used when neither file nor flag sets a token", async () => {
    const config = await load({}, { MANTRID_MANAGEMENT_TOKEN: "from-env" });
    expect(config.managementToken).toBe("from-env");
  });

  test("loses to the file and to the flag", async () => {
    const env = { MANTRID_MANAGEMENT_TOKEN: "from-env" };
    const path = confFile("management_token = from-file");
    expect((await load({ config: path }, env)).managementToken).toBe("from-file");
    const flagged = await load({ config: path, managementToken: "from-flag" }, env);
    expect(flagged.managementToken).toBe("from-flag");
  });

  test("empty counts as unset; white space is rejected", async () => {
    expect((await load({}, { MANTRID_MANAGEMENT_TOKEN: "" })).managementToken).toBeNull();
    expect(await failure(load({}, { MANTRID_MANAGEMENT_TOKEN: "a b" }))).toBe(
      "MANTRID_MANAGEMENT_TOKEN: the token must not contain white space",
    );
  });
});

describe("describeConfig", () => {
  test("summarises listeners and paths", async () => {
    const lines = describeConfig(await load({}));
    expect(lines).toEqual([
      "no configuration file: defaults and flags only",
      "listeners: *:80",
      "management API: 127.0.0.1:8042, [::1]:8042 (no token)",
      "state file /var/lib/mantrid/state.json",
      "static files from /etc/mantrid/static/",
    ]);
  });

  test("never prints the token", async () => {
    const path = confFile(
      "management_token = hunter2-secret\nworkers = 2\nbind_internal = 127.0.0.1:9",
    );
    const config = await load({ config: path, insecureManagement: true });
    const text = describeConfig(config).join("\n");
    expect(text).not.toContain("hunter2");
    expect(text).toContain("token set");
    expect(text).toContain("insecure management allowed");
    expect(text).toContain(`configuration from ${path}`);
    expect(text).toContain("trusted listeners: 127.0.0.1:9");
    expect(text).toContain("2 workers");
  });

  test("names the access log: its path, or stderr", async () => {
    expect(describeConfig(await load({ accessLog: "/var/log/a.log" }))).toContain(
      "access log to /var/log/a.log",
    );
    expect(describeConfig(await load({ accessLog: "-" }))).toContain("access log to stderr");
  });
});
