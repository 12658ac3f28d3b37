/** What the primary sends its workers and how it adds up what they answer: pure functions. */
import type { Change } from "../rules/registry.ts";
import { toTriple, toTriples } from "../rules/schema.ts";
import type { StatsRecord } from "../stats/host-stats.ts";
import type { WireChange } from "./messages.ts";

/** A durable change in the form sent to workers; a batch that changed nothing sends nothing. */
export function toWire(change: Change): WireChange[] {
  switch (change.kind) {
    case "set":
      return [{ kind: "set", key: change.key, rule: toTriple(change.rule) }];
    case "delete":
      return [{ kind: "delete", key: change.key }];
    case "backend":
      return [{ kind: "backend", key: change.key, admin: change.admin }];
    case "replace":
      return [
        {
          kind: "replace",
          rules: toTriples(change.rules),
        },
      ];
    case "none":
      return [];
  }
}

/** Adds one worker's counters into `total`; `countOpen` false for a worker that is gone. */
export function addStats(
  total: Map<string, StatsRecord>,
  stats: Record<string, StatsRecord>,
  countOpen: boolean,
): void {
  for (const [host, record] of Object.entries(stats)) {
    const sum = total.get(host) ?? {
      open_requests: 0,
      completed_requests: 0,
      bytes_sent: 0,
      bytes_received: 0,
    };
    total.set(host, {
      // A dead worker's open requests are gone with it.
      open_requests: sum.open_requests + (countOpen ? record.open_requests : 0),
      completed_requests: sum.completed_requests + record.completed_requests,
      bytes_sent: sum.bytes_sent + record.bytes_sent,
      bytes_received: sum.bytes_received + record.bytes_received,
    });
  }
}
