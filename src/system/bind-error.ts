/** A listener that could not bind, as one line for the operator naming the option to change. */
import { ConfigError } from "../config/config.ts";

const REASONS: Record<string, string> = {
  EADDRINUSE: "the address is in use",
  EACCES: "permission denied: ports below 1024 need root",
  EADDRNOTAVAIL: "no such address on this machine",
};

/**
 * `cannot listen on <address> (<why>): change <option> or <flag>`; `what` names
 * the listener when it is not traffic's (" for management").
 */
export function bindRefusal(
  error: unknown,
  address: string,
  option: string,
  flag: string,
  what = "",
): ConfigError {
  const code = (error as NodeJS.ErrnoException).code ?? "";
  const why = REASONS[code] ?? (error instanceof Error ? error.message : String(error));
  return new ConfigError(
    `cannot listen on ${address}${what} (${why}): change ${option} or ${flag}`,
    {
      cause: error,
    },
  );
}
