/**
 * Bind first (ports below 1024 need root), then give root up: supplementary
 * groups, then the group, then the user, in that order, or a step is refused.
 */
import { chown } from "node:fs/promises";
import { dirname } from "node:path";
import { type Config, ConfigError } from "../config/config.ts";
import { log } from "../log.ts";
import { lockPath } from "../store/lock.ts";
import { describeFileError, isSystemError } from "./file-error.ts";

export async function dropPrivileges(config: Config): Promise<void> {
  if (config.uid === null && config.gid === null) return;
  const uid = config.uid ?? process.getuid!();
  const gid = config.gid ?? process.getgid!();
  // The state file is rewritten by rename, so its folder must stay writable.
  const folder = dirname(config.stateFile);
  await chown(folder, uid, gid).catch((error) => {
    if (!isSystemError(error)) throw error;
    const doing = `give the state file's folder ${folder} to uid ${uid} gid ${gid}`;
    throw new ConfigError(
      describeFileError(error, doing, "start as root, or leave out uid and gid"),
    );
  });
  await chown(config.stateFile, uid, gid).catch(() => {});
  // So that the same user can start it next time without root.
  await chown(lockPath(config.stateFile), uid, gid).catch(() => {});
  process.setgroups?.([]);
  if (config.gid !== null) process.setgid!(gid);
  if (config.uid !== null) process.setuid!(uid);
  log.info(`running as uid ${process.getuid!()} gid ${process.getgid!()}`);
}
