/**
 * One server per state file. Two servers on one file would both answer "saved"
 * while each rewrite drops the other's rules, so the second one refuses to start.
 *
 * The lock is a `flock` on `<state_file>.lock`, held as long as the process
 * lives. The kernel drops it when the process dies, even by SIGKILL, so it never
 * goes stale. The file itself stays: removing it on release would let two later
 * servers lock two different files of one name. It holds the pid of the last
 * holder, which means something only while the lock is held.
 */
import {
  closeSync,
  constants,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { log } from "../log.ts";
import {
  describeFileError,
  errnoName,
  fileErrorMessage,
  isSystemError,
} from "../system/file-error.ts";
import { tryLockExclusive, unlock } from "../system/flock.ts";
import { StateFileError } from "./state-file.ts";

export interface StateLock {
  readonly path: string;
  /** Lets the next server in; safe to call twice. */
  release(): void;
}

/** Another process holds the lock. */
export class StateFileInUse extends StateFileError {
  constructor(
    readonly stateFile: string,
    /** Its pid, as it wrote it; null when unreadable. */
    readonly holder: number | null,
  ) {
    super(
      `the state file ${stateFile} is in use by another mantrid ` +
        `(${holder === null ? "pid unknown" : `pid ${holder}`}): stop that one first, ` +
        "or give this one another state file with --state-file or state_file",
    );
  }
}

export const STATE_FILE_HINT =
  "choose another path with --state-file or state_file in mantrid.conf";

export function lockPath(stateFile: string): string {
  return `${stateFile}.lock`;
}

/**
 * Creates the state file's folder if needed and takes the lock beside it.
 * Throws a StateFileError worded for the operator when it cannot.
 */
export function lockStateFile(stateFile: string): StateLock {
  const folder = dirname(stateFile);
  const path = lockPath(stateFile);
  attempt(`create the folder ${folder} for the state file ${stateFile}`, () =>
    mkdirSync(folder, { recursive: true }),
  );
  const doing = `open the lock ${path} of the state file ${stateFile}`;
  const fd = attempt(doing, () => openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644));
  const result = tryLockExclusive(fd);
  if (result === "locked") {
    writePid(fd);
    let held = true;
    return {
      path,
      release() {
        if (!held) return;
        held = false;
        unlock(fd);
        closeSync(fd);
      },
    };
  }
  closeSync(fd);
  if (result === "held") throw new StateFileInUse(stateFile, readPid(path));
  if (result === "unsupported") {
    log.warn(`cannot lock ${path} on this system: make sure no other server uses ${stateFile}`);
    return { path, release() {} };
  }
  throw new StateFileError(
    fileErrorMessage(errnoName(result.errno), `lock ${path}`, STATE_FILE_HINT),
  );
}

/**
 * Takes the lock, trying again while another process holds it, until
 * `deadlineMs` has passed (a takeover: the other one is letting it go).
 */
export async function lockStateFileWithin(
  stateFile: string,
  deadlineMs: number,
): Promise<StateLock> {
  const deadline = performance.now() + deadlineMs;
  for (;;) {
    try {
      return lockStateFile(stateFile);
    } catch (error) {
      if (!(error instanceof StateFileInUse) || performance.now() >= deadline) throw error;
    }
    await Bun.sleep(10);
  }
}

/** The pid the lock's holder wrote; meaningful only while the lock is held. */
export function lockHolder(stateFile: string): number | null {
  return readPid(lockPath(stateFile));
}

/** Runs a file operation, turning a system error into one line for the operator. */
function attempt<T>(doing: string, operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    if (isSystemError(error))
      throw new StateFileError(describeFileError(error, doing, STATE_FILE_HINT));
    throw error;
  }
}

/**
 * Written over the old pid, then cut to length, so a reader never finds the
 * file empty. Only informative: the lock holds without it.
 */
function writePid(fd: number): void {
  const text = `${process.pid}\n`;
  try {
    writeSync(fd, text, 0);
    ftruncateSync(fd, Buffer.byteLength(text));
  } catch {
    // A full disk: the refusal will say "pid unknown".
  }
}

function readPid(path: string): number | null {
  try {
    const first = readFileSync(path, "utf8").split("\n", 1)[0]!.trim();
    return /^[1-9]\d*$/.test(first) ? Number(first) : null;
  } catch {
    return null;
  }
}
