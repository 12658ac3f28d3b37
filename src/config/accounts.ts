/**
 * User and group names resolved to numeric ids through /etc/passwd and
 * /etc/group, as `uid` and `gid` accept either.
 */
import { readFileSync } from "node:fs";

/** Ids are unsigned 32-bit; 2^32 - 1 means "no change" to the system calls. */
const MAX_ID = 4_294_967_294;

export const PASSWD_FILE = "/etc/passwd";
export const GROUP_FILE = "/etc/group";

/** A numeric id as is, or a name looked up in a passwd-format file (name:x:id:...). */
export function resolveId(value: string, file: string, kind: "user" | "group"): number {
  if (/^\d+$/.test(value)) {
    const id = Number(value);
    if (id > MAX_ID) throw new Error(`${kind} id ${value} is more than ${MAX_ID}`);
    return id;
  }
  if (value === "") throw new Error(`a ${kind} name or id is required`);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new Error(
      `cannot read ${file} to look up ${kind} "${value}": ${(error as Error).message}`,
    );
  }
  for (const line of text.split("\n")) {
    const fields = line.split(":");
    if (fields[0] === value && fields[2] !== undefined && /^\d+$/.test(fields[2])) {
      return Number(fields[2]);
    }
  }
  throw new Error(`no ${kind} named "${value}" in ${file}`);
}
