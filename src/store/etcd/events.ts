/** What etcd's watch reports, as the registry's changes. */
import type { IEvent } from "etcd3";
import { parseBackendKey } from "../../backend/admin.ts";
import { log } from "../../log.ts";
import type { Change } from "../../rules/registry.ts";
import type { StoreKeys } from "./keys.ts";
import { decodeAdmin, type RuleReader, storedHostname } from "./values.ts";

/**
 * A key whose new value cannot be used counts as removed: a full read skips
 * it too, so a watched table and a read one agree.
 */
export function changesOf(
  events: readonly IEvent[],
  keys: StoreKeys,
  reader: RuleReader,
): Change[] {
  const changes: Change[] = [];
  for (const event of events) {
    const key = keys.parse(event.kv.key);
    if (key === null) continue;
    const put = event.type === "Put";
    if (key.kind === "rule") {
      const host = storedHostname(key.host);
      if (host === null) {
        unusable(event, "not a hostname");
        continue;
      }
      const rule = put ? reader.read(event.kv.value) : null;
      if (rule?.ok) changes.push({ kind: "set", key: host, rule: rule.value });
      else {
        if (rule !== null && !rule.ok) unusable(event, rule.problems[0]!.message);
        changes.push({ kind: "delete", key: host });
      }
    } else {
      const address = parseBackendKey(key.key);
      if (!address.ok || address.value !== key.key) {
        unusable(event, "not an address");
        continue;
      }
      const admin = put ? decodeAdmin(event.kv.value) : "enabled";
      if (admin === null) unusable(event, "not a backend state");
      changes.push({ kind: "backend", key: key.key, admin: admin ?? "enabled" });
    }
  }
  return changes;
}

function unusable(event: IEvent, why: string): void {
  log.warn(`etcd: ignored the value of ${event.kv.key.toString("utf8")}: ${why}`);
}
