/**
 * A worker: one data plane on ports shared with its siblings (SO_REUSEPORT),
 * its rules pushed by the primary, which owns the state file and the API.
 * A worker whose primary goes away exits, so a killed primary leaves no orphans.
 */
import { reportAll } from "../backend/report.ts";
import type { BackendStates } from "../backend/state.ts";
import { ConfigError } from "../config/config.ts";
import { log, setDebug } from "../log.ts";
import { type DataPlane, startDataPlane } from "../proxy/data-plane.ts";
import { parseRule, parseRuleSet } from "../rules/schema.ts";
import type { RuleTable } from "../rules/table.ts";
import { type AccessLog, openAccessLog } from "../stats/access-log.ts";
import { StatsBook } from "../stats/host-stats.ts";
import { Observers } from "../stats/observers.ts";
import { dropPrivileges } from "../system/privileges.ts";
import { ChallengeBook } from "../tls/challenges.ts";
import { CertificateMirror } from "../tls/mirror.ts";
import type { FromWorker, ToWorker, WireChange } from "./messages.ts";

export function runWorker(): Promise<number> {
  const send = (message: FromWorker) => process.send?.(message);
  const stats = new StatsBook();
  // Copies of the primary's: filled by its start message, then kept in step by its changes.
  const certificates = new CertificateMirror();
  const challenges = new ChallengeBook();
  let plane: DataPlane | null = null;
  let accessLog: AccessLog | null = null;
  const { promise, resolve } = Promise.withResolvers<number>();
  process.on("disconnect", () => resolve(0));
  process.on("SIGINT", () => {}); // the primary decides when workers stop
  process.on("SIGTERM", () => {});
  process.on("SIGHUP", () => {}); // the primary reloads; a hang-up must not end a worker
  process.on("SIGUSR2", () => {}); // the primary upgrades (a signal to the whole group)
  // From the primary, or from logrotate to the whole group: each worker opens the file anew.
  process.on("SIGUSR1", () => void accessLog?.reopen());
  process.on("message", async (message: ToWorker) => {
    switch (message.type) {
      case "start":
        try {
          setDebug(message.config.debug);
          const observers = new Observers();
          const path = message.config.accessLog;
          if (path !== null && path !== undefined) {
            accessLog = openAccessLog(path);
            observers.add(accessLog);
          }
          for (const certificate of message.certificates ?? []) {
            certificates.set(certificate.name, certificate);
          }
          for (const [token, answer] of message.challenges ?? []) challenges.set(token, answer);
          for (const [name, answer] of message.alpnChallenges ?? []) {
            challenges.setAlpn(name, answer);
          }
          plane = startDataPlane(message.config, stats, {
            reusePort: true,
            observers,
            certificates,
            challenges,
          });
          const states = plane.backends;
          for (const [key, admin] of Object.entries(message.backends ?? {})) {
            states.setAdmin(states.get(key), admin);
          }
          const parsed = parseRuleSet(message.rules);
          if (parsed.ok) plane.table.replaceAll(parsed.value);
          await dropPrivileges(message.config);
          send({ type: "ready", ports: plane.ports });
        } catch (error) {
          send({
            type: "failed",
            message: error instanceof ConfigError ? error.message : String(error),
          });
          resolve(1);
        }
        return;
      case "certificate":
        certificates.set(message.name, message.certificate);
        send({ type: "applied", id: message.id });
        return;
      case "challenge":
        if (message.keyAuthorization === null) challenges.delete(message.token);
        else challenges.set(message.token, message.keyAuthorization);
        send({ type: "applied", id: message.id });
        return;
      case "alpn-challenge":
        // Set before the answer: the listeners have switched doors by then.
        challenges.setAlpn(message.name, message.answer);
        send({ type: "applied", id: message.id });
        return;
      case "changes":
        if (plane) {
          for (const change of message.changes) applyChange(plane.table, change, plane.backends);
        }
        send({ type: "applied", id: message.id });
        return;
      case "stats":
        send({ type: "stats", id: message.id, stats: stats.toJSON() });
        return;
      case "backends":
        send({
          type: "backends",
          id: message.id,
          backends: plane ? reportAll(plane.backends, message.keys) : {},
        });
        return;
      case "rates":
        send({
          type: "rates",
          id: message.id,
          rates: plane ? plane.rates.report() : { hosts: {}, backends: {} },
        });
        return;
      case "metrics":
        send({ type: "metrics", id: message.id, metrics: plane ? plane.metrics.snapshot() : null });
        return;
      case "stop":
        await plane?.stop(message.graceSeconds);
        await accessLog?.close();
        // The primary disconnects once it has these, and the worker then exits.
        send({ type: "stats", id: message.id, stats: stats.toJSON() });
        return;
    }
  });
  return promise;
}

/**
 * One change from the primary, applied to the worker's table (or, for a
 * drain, to its backend states); a rule that does not parse changes nothing.
 */
export function applyChange<A>(
  table: RuleTable<A>,
  change: WireChange,
  states?: BackendStates,
): void {
  switch (change.kind) {
    case "set": {
      const parsed = parseRule(change.rule);
      if (parsed.ok) table.set(change.key, parsed.value);
      else log.error(`worker: refused rule for ${change.key}`);
      return;
    }
    case "delete":
      table.delete(change.key);
      return;
    case "replace": {
      const parsed = parseRuleSet(change.rules);
      if (parsed.ok) table.replaceAll(parsed.value);
      return;
    }
    case "backend":
      states?.setAdmin(states.get(change.key), change.admin);
      return;
  }
}
