#!/usr/bin/env bun
/**
 * The one executable: `mantrid [serve]` runs the balancer, `mantrid client …`
 * talks to a running one. Run under the name `mantrid-client`, it is the client.
 */
import "./plain-output.ts";
import { basename } from "node:path";
import { parseArgs } from "citty";
import { clientCommand, runClient } from "./client/index.ts";
import {
  type Command,
  commandIndex,
  Exit,
  flagProblem,
  helpCommand,
  helpText,
  runCommandLine,
  subcommand,
} from "./command-line.ts";
import {
  runServe,
  SERVE_EPILOGUE,
  SERVE_FLAGS,
  serveCommand,
  serveMistake,
} from "./serve-command.ts";
import { restartWithAllocatorTuning } from "./system/allocator.ts";
import { VERSION } from "./version.ts";
import { WORKER_ENV } from "./workers/messages.ts";
import { runWorker } from "./workers/worker.ts";

/** `mantrid` alone is `mantrid serve`, so it takes serve's flags, and -v. */
const MAIN_FLAGS = {
  ...SERVE_FLAGS,
  version: { type: "boolean", alias: "v", description: "Print the version" },
} as const;
/** What `mantrid` itself takes before a command's name. */
const BEFORE_COMMAND = { help: MAIN_FLAGS.help, version: MAIN_FLAGS.version };

const print = (text: string) => process.stdout.write(text);
const plain = !process.stdout.isTTY;

function mainCommand(serve: Command): Command {
  const main: Command = {
    meta: {
      name: "mantrid",
      version: VERSION,
      description: "HTTP load balancer configured at runtime",
    },
    args: MAIN_FLAGS,
    epilogue: `With no command, mantrid runs serve.\n\n${SERVE_EPILOGUE}`,
    default: "serve",
    subCommands: {
      serve,
      client: () => clientCommand(),
      help: helpCommand(() => main, print, plain, serveMistake),
    },
    // citty parses the whole line here; the words after a command's name are the command's.
    async setup({ rawArgs }) {
      const at = commandIndex(rawArgs, MAIN_FLAGS);
      const name = at < 0 ? undefined : rawArgs[at]!;
      const named = name === undefined ? undefined : await subcommand(main, name);
      if (name !== undefined && !named) throw serveMistake(`unknown command "${name}"`);
      const own = at < 0 ? rawArgs : rawArgs.slice(0, at);
      const problem = flagProblem(own, named ? BEFORE_COMMAND : MAIN_FLAGS);
      if (problem && named && !flagProblem(own, MAIN_FLAGS)) {
        throw serveMistake(
          named === serve
            ? `the options go after the command: mantrid serve ${own.join(" ")}`
            : `${own.join(" ")} is for serve, not ${name}`,
        );
      }
      if (problem) throw serveMistake(problem);
      const args = parseArgs(own, MAIN_FLAGS);
      if (args.version) {
        print(`${VERSION}\n`);
        throw new Exit(0);
      }
      if (args.help) {
        print(await helpText(named ?? main, plain));
        throw new Exit(0);
      }
    },
  };
  return main;
}

/** Which program this is: the client by name, a worker by its variable, else the command line. */
async function run(argv: string[], invokedAs: string): Promise<number> {
  if (process.env[WORKER_ENV] === "1") return runWorker();
  if (invokedAs === "mantrid-client") return runClient(argv);
  const serve = serveCommand(
    (flags, takeover) => {
      restartWithAllocatorTuning(argv);
      return runServe(flags, takeover);
    },
    print,
    plain,
  );
  return runCommandLine(mainCommand(serve), argv, (text) => process.stderr.write(text));
}

// Compiled with bytecode the entry is not a module, so no top-level await.
run(process.argv.slice(2), basename(process.argv0 ?? "")).then((code) => process.exit(code));
