/**
 * The compiled executable on the etcd store, with worker processes: the etcd
 * client (gRPC) runs inside it, with nothing read from node_modules.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningBinary, startBinary } from "../../support/binary.ts";
import { startEtcd, type TestEtcd } from "../../support/etcd.ts";
import { waitFor } from "../../support/wait.ts";
import { empty, freshPrefix } from "./instances.ts";

let etcd: TestEtcd;
let dir: string;
let prefix: string;
let server: RunningBinary;

beforeAll(async () => {
  etcd = await startEtcd();
  dir = await mkdtemp(join(tmpdir(), "mantrid-etcd-bin-"));
  prefix = freshPrefix();
  await etcd.ctl("put", `${prefix}hostname/first.test`, JSON.stringify(empty(201)));
  const config = join(dir, "mantrid.conf");
  await writeFile(
    config,
    `store = etcd\netcd_endpoints = ${etcd.endpoints.join(",")}\netcd_prefix = ${prefix}\n`,
  );
  server = await startBinary(["-c", config, "--workers", "2"], dir);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await etcd?.close();
  await rm(dir, { recursive: true, force: true });
});

async function statusFor(host: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${server.port}/`, { headers: { Host: host } });
  await response.arrayBuffer();
  return response.status;
}

describe("the executable on etcd", () => {
  test("loads the rules from etcd, and its workers serve them", async () => {
    expect(server.log()).toMatch(/loaded 1 rules from etcd at revision \d+/);
    for (let i = 0; i < 10; i++) expect(await statusFor("first.test")).toBe(201);
  });

  test("a rule written into etcd elsewhere is served; one set through it is in etcd", async () => {
    await etcd.ctl("put", `${prefix}hostname/second.test`, JSON.stringify(empty(202)));
    await waitFor(async () => (await statusFor("second.test")) === 202, "the new rule");
    const set = await server.client("set", "third.test", "empty", "false", "code=203");
    expect(set.code).toBe(0);
    const value = await etcd.ctl("get", "--print-value-only", `${prefix}hostname/third.test`);
    expect(JSON.parse(value)).toEqual(["empty", { code: 203 }, false]);
    expect(await statusFor("third.test")).toBe(203);
  });

  test("GET /health reports etcd as ok", async () => {
    const health = await (await fetch(`${server.api}/health`)).json();
    expect(health).toMatchObject({ store: "etcd", state: "ok" });
  });
});
