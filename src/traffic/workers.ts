/** Traffic served by worker processes sharing the listeners; this process is their primary. */
import { ruleCheck } from "../actions/compile.ts";
import { listeningLines } from "../proxy/data-plane.ts";
import { RuleRegistry } from "../rules/registry.ts";
import { RuleTable } from "../rules/table.ts";
import { sum } from "../stats/host-stats.ts";
import { resolvePorts } from "../system/ports.ts";
import { carryInto, withGrowth } from "../takeover/counters.ts";
import { WorkerPool } from "../workers/primary.ts";
import { syncTls, tlsState } from "../workers/tls-sync.ts";
import type { Traffic, TrafficStart } from "./traffic.ts";

export async function startWorkers(start: TrafficStart): Promise<Traffic> {
  const { config, stats, save, rules, backends, tls } = start;
  // Port 0 must become one port that every worker shares.
  const shared = resolvePorts(config);
  const base = stats.toJSON();
  const pool: WorkerPool = new WorkerPool(
    shared,
    () => registry.all(),
    () => registry.backends.all(),
    () => tlsState(tls),
  );
  // From before the first worker starts: a change during its start still reaches it.
  const tlsSync = syncTls(pool, tls);
  const registry = new RuleRegistry<null>(
    new RuleTable(() => null),
    stats,
    save,
    rules,
    (changes) => pool.publish(changes),
    ruleCheck(config.staticDir),
    // Workers apply drains as they apply rules: through `publish`, and at their start.
    { initial: backends },
  );
  const ports = await pool.start().catch(async (error) => {
    tlsSync.stop();
    await pool.stop(0);
    throw error;
  });
  return {
    registry,
    ports,
    async refreshStats() {
      const totals = await pool.stats();
      for (const host of new Set([...Object.keys(base), ...Object.keys(totals)])) {
        stats.set(host, sum(base[host], totals[host]));
      }
    },
    backends: (keys) => pool.backends(keys),
    rates: () => pool.rates(),
    metrics: () => pool.metrics(),
    tlsSettled: () => tlsSync.settled(),
    carry: (growth) => {
      for (const [host, grown] of Object.entries(growth))
        base[host] = withGrowth(base[host], grown);
      carryInto(stats, growth);
    },
    follow: (changes) => void pool.broadcast((id) => ({ type: "changes", id, changes })),
    // Each worker has its own access log open (the same file, appending).
    async reopenLogs() {
      for (const pid of pool.pids) {
        try {
          process.kill(pid, "SIGUSR1");
        } catch {
          // Gone between the list and the signal: its successor opens the file anew.
        }
      }
    },
    describe: () => [
      ...listeningLines(
        shared,
        [...shared.bind, ...shared.bindInternal, ...shared.bindTls].map((a) => [a.host, a.port]),
      ),
      `${config.workers} workers: pids ${pool.pids.join(", ")}`,
    ],
    stop: (graceSeconds) => {
      tlsSync.stop();
      return pool.stop(graceSeconds);
    },
  };
}
