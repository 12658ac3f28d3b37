/**
 * When the old process closes its listener at a takeover, connections still
 * waiting in that listener's accept queue are reset by the kernel, unless
 * `net.ipv4.tcp_migrate_req` is 1 (Linux 5.14 and later): then they move to
 * another listener of the same SO_REUSEPORT group, the new process's. Without
 * it a takeover under load drops a few new connections (see bench/README.md).
 * Run as root, Mantrid sets it; otherwise it says once how to.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { log } from "../log.ts";

export const MIGRATE_REQ_PATH = "/proc/sys/net/ipv4/tcp_migrate_req";

export type MigrateState = "on" | "turned-on" | "off" | "unsupported";

/** Turns the setting on where it can; logs one line when it did, or cannot. */
export function ensureRequestMigration(path = MIGRATE_REQ_PATH): MigrateState {
  let value: string;
  try {
    value = readFileSync(path, "utf8").trim();
  } catch {
    if (process.platform === "linux") {
      log.warn(
        "this kernel cannot move waiting connections to a new listener (net.ipv4.tcp_migrate_req " +
          "needs Linux 5.14): a takeover under load may reset a few new connections",
      );
    }
    return "unsupported";
  }
  if (value === "1") return "on";
  try {
    writeFileSync(path, "1\n");
    log.info(
      "set net.ipv4.tcp_migrate_req = 1: at a takeover, connections waiting for the old " +
        "listener move to the new one instead of being reset",
    );
    return "turned-on";
  } catch {
    log.warn(
      "net.ipv4.tcp_migrate_req is 0: at a takeover, connections waiting for the old listener " +
        "are reset; set it with `sysctl -w net.ipv4.tcp_migrate_req=1` as root to have them moved",
    );
    return "off";
  }
}
