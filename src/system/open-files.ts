/**
 * Every client and backend connection is a file descriptor, so a low soft limit
 * on open files caps connections long before memory does. Raise it to the hard
 * limit at start-up (as HAProxy does), through libc: Bun has no setrlimit.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";

const RLIMIT_NOFILE = 7;

export interface OpenFilesLimit {
  before: number;
  after: number;
  hard: number;
}

/** Raises the soft limit to the hard one; null where libc cannot be reached. */
export function raiseOpenFilesLimit(): OpenFilesLimit | null {
  if (process.platform !== "linux") return null;
  let libc: ReturnType<typeof open>;
  try {
    libc = open();
  } catch {
    return null;
  }
  const limit = new BigUint64Array(2);
  if (libc.symbols.getrlimit(RLIMIT_NOFILE, ptr(limit)) !== 0) return null;
  const [soft = 0n, max = 0n] = limit;
  const before = Number(soft);
  const hard = Number(max);
  if (soft < max) {
    limit[0] = max;
    libc.symbols.setrlimit(RLIMIT_NOFILE, ptr(limit));
    libc.symbols.getrlimit(RLIMIT_NOFILE, ptr(limit));
  }
  return { before, after: Number(limit[0]), hard };
}

function open() {
  return dlopen("libc.so.6", {
    getrlimit: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    setrlimit: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  });
}
