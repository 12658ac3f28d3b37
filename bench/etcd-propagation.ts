/**
 * `bun bench/etcd-propagation.ts [--changes N]`: how long a rule change made
 * through one instance's API takes to serve on another instance sharing the
 * same etcd. It starts a one-member etcd and two dist/mantrid processes with
 * `store = etcd`, then for each change: PUT on the first (acknowledged once
 * etcd committed it), and polls the second's traffic listener for the new
 * answer; the time from sending the PUT to the second serving it is reported
 * (median, p90, max), as is the PUT's own time.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startBinary } from "../test/support/binary.ts";
import { startEtcd } from "../test/support/etcd.ts";

const { values } = parseArgs({ options: { changes: { type: "string", default: "50" } } });
const changes = Number(values.changes);

const etcd = await startEtcd();
const dirs = [
  await mkdtemp(join(tmpdir(), "mantrid-prop-a-")),
  await mkdtemp(join(tmpdir(), "mantrid-prop-b-")),
];
try {
  const servers = [];
  for (const dir of dirs) {
    const config = join(dir, "mantrid.conf");
    await writeFile(config, `store = etcd\netcd_endpoints = ${etcd.endpoints[0]}\n`);
    servers.push(await startBinary(["-c", config], dir));
  }
  const [a, b] = servers as [(typeof servers)[0], (typeof servers)[0]];
  const status = async (host: string) =>
    (await fetch(`http://127.0.0.1:${b.port}/`, { headers: { host } })).status;
  const live: number[] = [];
  const acknowledged: number[] = [];
  for (let i = 0; i < changes; i++) {
    const host = `p${i}.test`;
    const code = 200 + (i % 4);
    const sent = performance.now();
    const put = await fetch(`${a.api}/hostname/${host}/`, {
      method: "PUT",
      body: JSON.stringify(["empty", { code }, false]),
    });
    if (put.status !== 200) throw new Error(`PUT ${host}: ${put.status} ${await put.text()}`);
    acknowledged.push(performance.now() - sent);
    const deadline = sent + 10_000;
    while ((await status(host)) !== code) {
      if (performance.now() > deadline) throw new Error(`${host} never served on the second`);
    }
    live.push(performance.now() - sent);
  }
  const report = (name: string, times: number[]) => {
    const sorted = [...times].sort((x, y) => x - y);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    console.log(
      `${name}: median ${at(0.5).toFixed(1)} ms, p90 ${at(0.9).toFixed(1)} ms, ` +
        `max ${sorted.at(-1)!.toFixed(1)} ms (${times.length} changes)`,
    );
  };
  report("PUT acknowledged by the first instance", acknowledged);
  report("served by the second instance", live);
  for (const server of servers) await server.stop();
} finally {
  await etcd.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
}
