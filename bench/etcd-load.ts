/**
 * `bun bench/etcd-load.ts [--rules N]`: how long Mantrid takes to start on
 * a million rules in etcd. It starts a one-member etcd (Debian's etcd-server),
 * writes the rules into it with the etcd client (transactions of 128 puts,
 * 16 at a time), then starts dist/mantrid with `store = etcd` and times it
 * from spawn to the management API listening (the whole table is read
 * before that), and reads its memory. Then a whole-set PUT of the same rules
 * with one changed (a difference of one key) and a restart on the state
 * file's copy with etcd stopped.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Etcd3, type IRequestOp } from "etcd3";
import { startBinary } from "../test/support/binary.ts";
import { startEtcd } from "../test/support/etcd.ts";
import { hostName } from "./host-set.ts";
import { memoryOf } from "./rss.ts";

const { values } = parseArgs({ options: { rules: { type: "string", default: "1000000" } } });
const count = Number(values.rules);
const prefix = "/mantrid/";
const pools = 100;

function ruleOf(index: number): string {
  return JSON.stringify(["proxy", { backends: [`10.0.${index % pools}.1:80`] }, false]);
}

const etcd = await startEtcd();
const dir = await mkdtemp(join(tmpdir(), "mantrid-etcd-bench-"));
try {
  const client = new Etcd3({ hosts: etcd.endpoints });
  let written = 0;
  const writeStarted = performance.now();
  const writer = async (first: number, step: number) => {
    for (let start = first * 128; start < count; start += step * 128) {
      const ops: IRequestOp[] = [];
      for (let i = start; i < Math.min(start + 128, count); i++) {
        ops.push({
          request_put: {
            key: Buffer.from(`${prefix}hostname/${hostName(i)}`),
            value: Buffer.from(ruleOf(i)),
          },
        });
      }
      await client.kv.txn({ success: ops });
      written += ops.length;
    }
  };
  await Promise.all(Array.from({ length: 16 }, (_, i) => writer(i, 16)));
  client.close();
  const writeSeconds = (performance.now() - writeStarted) / 1000;
  console.log(`wrote ${written} rules into etcd in ${writeSeconds.toFixed(1)} s`);

  const config = join(dir, "mantrid.conf");
  await writeFile(config, `store = etcd\netcd_endpoints = ${etcd.endpoints[0]}\n`);
  const started = performance.now();
  const server = await startBinary(["-c", config], dir);
  const startSeconds = (performance.now() - started) / 1000;
  const loaded = /loaded (\d+) rules from etcd/.exec(server.log())?.[1];
  const memory = memoryOf(server.process.pid);
  console.log(
    `start on etcd: ${startSeconds.toFixed(2)} s to serve ${loaded} rules, ` +
      `RSS ${(memory.rss / 2 ** 20).toFixed(0)} MiB`,
  );

  // The same set with one rule changed: one key is written.
  const pieces: string[] = [];
  for (let i = 0; i < count; i++) {
    const rule = i === 0 ? JSON.stringify(["empty", { code: 204 }, false]) : ruleOf(i);
    pieces.push(`${JSON.stringify(hostName(i))}:${rule}`);
  }
  const body = `{${pieces.join(",")}}`;
  const putStarted = performance.now();
  const put = await fetch(`${server.api}/hostname/`, { method: "PUT", body });
  const putSeconds = (performance.now() - putStarted) / 1000;
  console.log(`PUT /hostname/ of ${count} rules: ${put.status} in ${putSeconds.toFixed(2)} s`);
  await server.stop();

  // etcd gone: the instance starts on its state file's copy.
  await etcd.members[0]!.stop();
  const again = performance.now();
  const cached = await startBinary(["-c", config], dir);
  const cachedSeconds = (performance.now() - again) / 1000;
  const fromCache = /loaded (\d+) rules from the cache/.exec(cached.log())?.[1];
  console.log(`start with etcd down: ${cachedSeconds.toFixed(2)} s to serve ${fromCache} rules`);
  await cached.stop();
} finally {
  await etcd.close();
  await rm(dir, { recursive: true, force: true });
}
