/** One line per event on stderr: time, level, message. `--debug` turns on debug lines. */
export type Level = "debug" | "info" | "warn" | "error";

const RANK: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };
let threshold = RANK.info;

export function setDebug(enabled: boolean): void {
  if (enabled) threshold = RANK.debug;
  else if (threshold === RANK.debug) threshold = RANK.info;
}

/** The least severe level written; tests raise it to keep their output readable. */
export function setLogLevel(level: Level): void {
  threshold = RANK[level];
}

function write(level: Level, message: string): void {
  if (RANK[level] < threshold) return;
  process.stderr.write(`${new Date().toISOString()} ${level.padEnd(5)} ${message}\n`);
}

export const log = {
  debug: (message: string): void => write("debug", message),
  info: (message: string): void => write("info", message),
  warn: (message: string): void => write("warn", message),
  error: (message: string): void => write("error", message),
};
