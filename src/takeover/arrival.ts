/**
 * How a server comes to hold its state file: it takes the free lock, or with
 * `--takeover` it asks the server holding it to save everything and let go,
 * checking first that it can listen where it must. Every port is fixed here.
 */
import { type Config, ConfigError } from "../config/config.ts";
import { log } from "../log.ts";
import {
  lockStateFile,
  lockStateFileWithin,
  STATE_FILE_HINT,
  StateFileInUse,
  type StateLock,
} from "../store/lock.ts";
import { StateFileError } from "../store/state-file.ts";
import { openStateStore, type StateStore } from "../store/state-log.ts";
import { describeFileError, isSystemError } from "../system/file-error.ts";
import { claimPorts } from "./claim-ports.ts";
import { DEADLINES } from "./deadlines.ts";
import { ensureRequestMigration } from "./migrate-requests.ts";
import { Predecessor, TakeoverFailed } from "./predecessor.ts";

export interface Arrival {
  /** The config with every port fixed. */
  config: Config;
  lock: StateLock;
  /** The server taken over from, which waits for this one to be ready. */
  predecessor: Predecessor | null;
}

export async function arrive(config: Config, takeover: boolean): Promise<Arrival> {
  ensureRequestMigration();
  let lock: StateLock;
  try {
    lock = lockStateFile(config.stateFile);
  } catch (error) {
    if (!takeover || !(error instanceof StateFileInUse)) throw error;
    return succeed(config, error.holder);
  }
  if (takeover) log.info(`--takeover: no server holds ${config.stateFile}; starting afresh`);
  try {
    return { config: claimPorts(config), lock, predecessor: null };
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function succeed(config: Config, holder: number | null): Promise<Arrival> {
  const predecessor = await Predecessor.reach(config.stateFile, holder);
  log.info(`taking over from pid ${predecessor.pid} (mantrid ${predecessor.version})`);
  let claimed: Config;
  try {
    claimed = claimPorts(config, predecessor.listeners);
  } catch (error) {
    predecessor.giveUp(`pid ${process.pid} cannot listen: ${(error as Error).message}`);
    throw error;
  }
  await predecessor.release();
  try {
    const lock = await lockStateFileWithin(config.stateFile, DEADLINES.lockMs);
    return { config: claimed, lock, predecessor };
  } catch (error) {
    predecessor.giveUp(`pid ${process.pid} cannot lock the state file`);
    const why = error instanceof StateFileInUse ? "it is still locked" : (error as Error).message;
    throw new TakeoverFailed(`pid ${predecessor.pid} let ${config.stateFile} go, but ${why}`);
  }
}

/** The state file's store, opened; a system error in one line for the operator. */
export async function openStore(path: string): Promise<StateStore> {
  return openStateStore(path).catch((error) => {
    if (!isSystemError(error)) throw error;
    const doing = `open the state file ${path}`;
    throw new StateFileError(describeFileError(error, doing, STATE_FILE_HINT));
  });
}

/** Errors that stop start-up with one line: a takeover's, besides the config's and the state's. */
export function isStartRefusal(error: unknown): error is Error {
  return (
    error instanceof TakeoverFailed ||
    error instanceof ConfigError ||
    error instanceof StateFileError
  );
}
