/**
 * The client's own command line. Flags may come before or after the command
 * (`client --url X list` and `client list --url X`), which a parent command
 * parser does not pass through, so the client reads its argv itself.
 */
import { UsageError } from "./errors.ts";

export interface ClientArgs {
  url?: string;
  token?: string;
  json: boolean;
  help: boolean;
  /** The command and its arguments, in order. */
  positionals: string[];
}

const VALUE_FLAGS = ["url", "token"] as const;
type ValueFlag = (typeof VALUE_FLAGS)[number];

function isValueFlag(name: string): name is ValueFlag {
  return (VALUE_FLAGS as readonly string[]).includes(name);
}

export function parseClientArgv(argv: readonly string[]): ClientArgs {
  const args: ClientArgs = { json: false, help: false, positionals: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      args.positionals.push(...argv.slice(i + 1));
      break;
    }
    // A lone "-" is stdin for `load`; only dashed words are flags.
    if (arg === "-" || !arg.startsWith("-")) {
      args.positionals.push(arg);
      continue;
    }
    if (arg === "-h" || arg === "--help") {
      args.help = true;
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (arg.startsWith("--") && name === "json" && eq < 0) {
      args.json = true;
    } else if (arg.startsWith("--") && isValueFlag(name)) {
      const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      args[name] = value;
    } else {
      throw new UsageError(`unknown option ${arg}`);
    }
  }
  return args;
}
