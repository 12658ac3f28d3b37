/**
 * Errors from the system (a path that cannot be created, read or locked) worded
 * for the operator in one line: what was being done, why it failed, what to change.
 * A stack trace says none of that, and hides the path in its fourth line.
 */
import { constants } from "node:os";

/** Plain words for the codes a path gives at start-up; others keep the system's words. */
const REASONS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOTDIR: "a part of the path is a file, not a folder",
  EISDIR: "it is a folder",
  EEXIST: "a part of the path exists and is not a folder",
  ENOENT: "a folder on the path does not exist",
  EROFS: "the file system is read-only",
  ENOSPC: "no space left on the device",
  EDQUOT: "the disk quota is used up",
  ENAMETOOLONG: "the name is too long",
  ELOOP: "too many symbolic links on the path",
  ENOLCK: "the file system does not support locks",
};

/** An error that came from a system call (it has an `E...` code), not a bug. */
export function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return error instanceof Error && typeof code === "string" && /^E[A-Z0-9]+$/.test(code);
}

/** The code's name for an errno number, as `flock` gives them: 13 -> "EACCES". */
export function errnoName(errno: number): string {
  const entry = Object.entries(constants.errno).find(([, value]) => value === errno);
  return entry?.[0] ?? `errno ${errno}`;
}

/**
 * `cannot <doing>: <reason> (<CODE>); <hint>`. Permission errors name the user,
 * since the same path works for root.
 */
export function fileErrorMessage(code: string, doing: string, hint: string, fallback = ""): string {
  let reason = REASONS[code] ?? (fallback || "failed");
  if ((code === "EACCES" || code === "EPERM") && process.getuid) {
    reason += ` for uid ${process.getuid()}`;
  }
  return `cannot ${doing}: ${reason} (${code}); ${hint}`;
}

/** `fileErrorMessage` for a caught error; the system's words are kept for codes not listed. */
export function describeFileError(error: NodeJS.ErrnoException, doing: string, hint: string) {
  // "EBUSY: resource busy or locked, open '/x'" -> "resource busy or locked"
  const words = error.message.replace(/^E[A-Z0-9]+: /, "").replace(/, \w+ '.*'$/s, "");
  return fileErrorMessage(error.code ?? "EIO", doing, hint, words);
}
