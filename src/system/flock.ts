/**
 * `flock(2)` through libc: Bun has none. A flock belongs to the open file, so
 * the kernel drops it when the process dies, however it dies.
 */
import { dlopen, FFIType, read } from "bun:ffi";

const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;
const EWOULDBLOCK = 11;

type Libc = ReturnType<typeof openLibc>;
let libc: Libc | null | undefined;

/** Null where libc cannot be reached (not Linux, or no glibc). */
function functions(): Libc | null {
  if (libc === undefined) {
    try {
      libc = process.platform === "linux" ? openLibc() : null;
    } catch {
      libc = null;
    }
  }
  return libc;
}

function openLibc() {
  return dlopen("libc.so.6", {
    flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
}

export type FlockResult = "locked" | "held" | "unsupported" | { errno: number };

/** Takes an exclusive lock on `fd` without waiting; "held" when another open file has it. */
export function tryLockExclusive(fd: number): FlockResult {
  const c = functions();
  if (c === null) return "unsupported";
  if (c.symbols.flock(fd, LOCK_EX | LOCK_NB) === 0) return "locked";
  // Read at once, before other JS can make a call that changes it.
  const errno = read.i32(c.symbols.__errno_location()!, 0);
  return errno === EWOULDBLOCK ? "held" : { errno };
}

export function unlock(fd: number): void {
  functions()?.symbols.flock(fd, LOCK_UN);
}
