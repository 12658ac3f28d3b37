/** What a subcommand is given, and the checks several of them share. */
import { summarise } from "../management/summary.ts";
import { parseHostname } from "../rules/schema.ts";
import { Failure } from "./errors.ts";

export interface CommandContext {
  /** The command's own arguments, after its name. */
  args: string[];
  /** Print the API's JSON answers instead of tables. */
  json: boolean;
  /** Writes one line of output. */
  print(line: string): void;
  /** One API call; in `--json` mode its answer is printed as is. Throws on an error answer. */
  call(method: "GET" | "PUT" | "DELETE", path: string, body?: unknown): Promise<unknown>;
  /** The text of a file, or of stdin for `-` or no name. */
  readInput(name: string | undefined): Promise<string>;
}

export interface Command {
  /** Argument synopsis for the help text. */
  args: string;
  summary: string;
  minArgs: number;
  maxArgs: number;
  run(context: CommandContext): Promise<void>;
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
