/** What a subcommand is, what it is given, and the checks several of them share. */
import type { ArgsDef, ParsedArgs } from "citty";
import { summarise } from "../management/summary.ts";
import { parseHostname } from "../rules/schema.ts";
import { Failure } from "./errors.ts";

export interface CommandContext {
  /** Print the API's JSON answers instead of tables and confirmations. */
  json: boolean;
  /** Writes one line of output. */
  print(line: string): void;
  /** The output is a terminal (not a pipe, a file or a test): a live view may redraw it. */
  terminal?: boolean;
  /** One API call; in `--json` mode its answer is printed as is. Throws on an error answer. */
  call(method: "GET" | "PUT" | "DELETE", path: string, body?: unknown): Promise<unknown>;
  /** The text of a file, or of stdin for `-` or no name. */
  readInput(name: string | undefined): Promise<string>;
}

/** A subcommand: its positional arguments (citty's), and what it does with them. */
export interface ClientCommand<T extends ArgsDef = ArgsDef> {
  description: string;
  /** The positional arguments, in order; every command takes the client's flags too. */
  args: T;
  /** Said after the help that citty renders from the above. */
  epilogue?: string;
  run(args: ParsedArgs<T>, context: CommandContext): Promise<void>;
}

/** Types `run`'s arguments from `args`, as citty's defineCommand does, for a table of any commands. */
export function defineClientCommand<const T extends ArgsDef>(
  command: ClientCommand<T>,
): ClientCommand {
  return command as unknown as ClientCommand;
}

/** The canonical key, checked here so a typo fails before anything is sent. */
export function hostArg(text: string): string {
  const parsed = parseHostname(text);
  if (parsed.ok) return parsed.value;
  throw new Failure(summarise(`hostname "${text}"`, parsed.problems));
}

/** The API path of one host; keys with a protocol hold slashes, so they are encoded. */
export function hostPath(collection: "hostname" | "stats", host: string): string {
  return `/${collection}/${encodeURIComponent(host)}/`;
}
