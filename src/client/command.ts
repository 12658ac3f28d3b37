/**
 * `mantrid client`: a citty command whose subcommands are the table in
 * commands.ts. The flags are the same table for `client` and for every
 * subcommand, so they work before and after the command's name; citty gives
 * those before it to `client` only, so `client` reads them all (its parse
 * sees the whole line) and hands them on.
 */
import { type ArgsDef, parseArgs } from "citty";
import {
  type Command,
  countProblem,
  Exit,
  flagProblem,
  helpCommand,
  helpText,
  runCommandLine,
  subcommand,
} from "../command-line.ts";
import { VERSION } from "../version.ts";
import { COMMANDS } from "./commands.ts";
import type { CommandContext } from "./context.ts";
import { Failure, UsageError } from "./errors.ts";
import { CLIENT_FLAGS } from "./flags.ts";
import { type ClientFlags, type ClientIO, createContext } from "./session.ts";
import { ACTIONS_HELP } from "./set.ts";

const EPILOGUE = [
  "The options go before or after the command: client --url URL list, client list --url URL.",
  "",
  ACTIONS_HELP,
].join("\n");

/** Exit codes: 0 done, 1 the operation failed, 2 the command line was wrong. */
function exitFor(error: unknown): Exit {
  if (error instanceof Exit) return error;
  if (error instanceof UsageError) {
    return new Exit(2, `mantrid client: ${error.message}; see mantrid client --help`);
  }
  if (error instanceof Failure) return new Exit(1, `mantrid client: ${error.message}`);
  return new Exit(1, `mantrid client: ${error instanceof Error ? error.message : String(error)}`);
}

async function guarded(step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (error) {
    throw exitFor(error);
  }
}

/** The client's command tree, for one run with this input and output. */
export function clientCommand(io: ClientIO = {}): Command {
  const out = io.stdout ?? ((text: string) => process.stdout.write(text));
  const plain = io.stdout !== undefined || !process.stdout.isTTY;
  let context: CommandContext | undefined;

  const subCommands: Record<string, Command> = {};
  for (const [name, command] of Object.entries(COMMANDS)) {
    subCommands[name] = {
      meta: { name: `mantrid client ${name}`, description: command.description },
      args: { ...command.args, ...CLIENT_FLAGS },
      epilogue: command.epilogue,
      run: ({ args }) => guarded(() => command.run(args, context!)),
    };
  }
  const client: Command = {
    meta: {
      name: "mantrid client",
      version: VERSION,
      description: "Inspect and change a running mantrid's rules through its management API",
    },
    args: CLIENT_FLAGS,
    epilogue: EPILOGUE,
    subCommands: {
      ...subCommands,
      help: helpCommand(
        () => client,
        out,
        plain,
        (message) => exitFor(new UsageError(message)),
      ),
    },
    // Runs before the subcommand, with every flag on the line: the client's and the command's own.
    setup: ({ args, rawArgs }) =>
      guarded(async () => {
        const [name] = args._;
        const command = name === undefined ? undefined : await subcommand(client, name);
        // A command's own flags (top's --sort) count too, and their values are no arguments.
        const own = Object.entries((command?.args ?? {}) as ArgsDef);
        const flags: ArgsDef = {
          ...CLIENT_FLAGS,
          ...Object.fromEntries(own.filter(([, def]) => def.type !== "positional")),
        };
        const problem = flagProblem(rawArgs, flags);
        if (problem) throw new UsageError(problem);
        const rest = parseArgs(rawArgs, flags)._.slice(1);
        if (args.help) {
          out(await helpText(command ?? client, plain));
          throw new Exit(0);
        }
        if (name === undefined) throw new UsageError("no command given");
        if (!command) throw new UsageError(`unknown command "${name}"`);
        // Checked here, as citty would refuse a missing argument before the command's own code.
        const count = countProblem(name, command.args as ArgsDef, rest.length);
        if (count) throw new UsageError(count);
        if (name !== "help") context = createContext(args as ClientFlags, io);
      }),
  };
  return client;
}

/** `mantrid client ...` (or `mantrid-client ...`) with `argv` after the word client. */
export function runClient(argv: string[], io: ClientIO = {}): Promise<number> {
  const stderr = io.stderr ?? ((text: string) => process.stderr.write(text));
  return runCommandLine(clientCommand(io), argv, stderr);
}
