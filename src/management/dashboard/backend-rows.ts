/**
 * The backends of the hostnames in the table, as `GET /backend/` shows them:
 * only those, so a second's work stays small however many rules there are.
 */
import { addressOf } from "../../backend/members.ts";
import { reportAll } from "../../backend/report.ts";
import { BackendStates } from "../../backend/state.ts";
import type { Backend } from "../../rules/options.ts";
import type { RuleRegistry } from "../../rules/registry.ts";
import type { BackendReporter } from "../backend-routes.ts";
import type { BackendRow, HostRow } from "./sample.ts";

/** Without a data plane (a management API alone), every address is up and idle. */
const nobody = new BackendStates();

export async function backendRows(
  registry: RuleRegistry<unknown>,
  rows: readonly HostRow[],
  reporter?: BackendReporter,
): Promise<BackendRow[]> {
  const users = new Map<string, string[]>();
  for (const row of rows) {
    if (row.rule === null || row.rule[0] !== "proxy") continue;
    const backends = (row.rule[1].backends ?? []) as Backend[];
    for (const key of new Set(backends.map((backend) => addressOf(backend).key))) {
      const hosts = users.get(key);
      if (hosts === undefined) users.set(key, [row.host]);
      else hosts.push(row.host);
    }
  }
  const keys = [...users.keys()].sort();
  if (keys.length === 0) return [];
  const reports = reporter ? await reporter(keys) : reportAll(nobody, keys);
  return keys.flatMap((key) => {
    const report = reports[key];
    if (report === undefined) return [];
    const admin = registry.backends.get(key);
    const check = report.check && {
      ok: report.check.ok,
      status: report.check.status,
      ms: report.check.ms,
      ...(report.check.error === undefined ? {} : { error: report.check.error }),
    };
    return [
      {
        address: key,
        state: admin === "enabled" ? report.health : admin,
        check,
        active: report.active,
        requests: report.requests,
        failures: report.failures,
        rules: users.get(key)!,
      },
    ];
  });
}
