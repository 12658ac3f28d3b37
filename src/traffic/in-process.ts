/** Traffic served by this process's own data plane, beside the management API. */
import type { Action } from "../actions/action.ts";
import { ruleCheck } from "../actions/compile.ts";
import { reportAll } from "../backend/report.ts";
import { listeningLines, startDataPlane } from "../proxy/data-plane.ts";
import { RuleRegistry } from "../rules/registry.ts";
import { openAccessLog } from "../stats/access-log.ts";
import { Observers } from "../stats/observers.ts";
import { carryInto } from "../takeover/counters.ts";
import { applyChange } from "../workers/worker.ts";
import type { Traffic, TrafficStart } from "./traffic.ts";

export function startInProcess(start: TrafficStart): Traffic {
  const { config, stats, save, rules, backends, tls } = start;
  const accessLog = config.accessLog === null ? null : openAccessLog(config.accessLog);
  const observers = new Observers();
  if (accessLog !== null) observers.add(accessLog);
  let plane: ReturnType<typeof startDataPlane>;
  try {
    plane = startDataPlane(config, stats, { reusePort: true, observers, ...tls });
  } catch (error) {
    void accessLog?.close();
    throw error;
  }
  const states = plane.backends;
  let registry: RuleRegistry<Action>;
  try {
    registry = new RuleRegistry<Action>(
      plane.table,
      stats,
      save,
      rules,
      null,
      ruleCheck(config.staticDir),
      { initial: backends, apply: (key, admin) => states.setAdmin(states.get(key), admin) },
    );
  } catch (error) {
    void plane.stop(0).then(() => accessLog?.close());
    throw error;
  }
  return {
    registry,
    ports: plane.ports,
    openConnections: () => plane.openConnections,
    sampleRates: () => plane.rates.tick(),
    rates: async () => plane.rates.report(),
    backends: async (keys) => reportAll(states, keys),
    metrics: () => plane.metrics.view(),
    tlsSettled: async () => {},
    carry: (growth) => carryInto(stats, growth),
    follow: (changes) => {
      for (const change of changes) applyChange(plane.table, change, states);
    },
    describe: () =>
      listeningLines(
        config,
        plane.listeners.map((listener) => [listener.hostname, listener.port]),
      ),
    reopenLogs: async () => accessLog?.reopen(),
    async stop(graceSeconds) {
      await plane.stop(graceSeconds);
      await accessLog?.close();
    },
  };
}
