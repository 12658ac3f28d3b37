/** `mantrid client ...`: parses the line, runs one command, and turns every outcome into an exit code. */
import { readFile } from "node:fs/promises";
import { parseClientArgv } from "./argv.ts";
import { COMMANDS } from "./commands.ts";
import { Connection, errorLine, resolveUrl } from "./connection.ts";
import type { CommandContext } from "./context.ts";
import { Failure, UsageError } from "./errors.ts";
import { usage } from "./usage.ts";

export interface ClientIO {
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  env?: Record<string, string | undefined>;
  stdin?: () => Promise<string>;
}

/** Exit codes: 0 done, 1 the operation failed, 2 the command line was wrong. */
export async function runClient(argv: string[], io: ClientIO = {}): Promise<number> {
  const stdout = io.stdout ?? ((text: string) => process.stdout.write(text));
  const stderr = io.stderr ?? ((text: string) => process.stderr.write(text));
  try {
    const args = parseClientArgv(argv);
    if (args.help) {
      stdout(usage());
      return 0;
    }
    const [name, ...rest] = args.positionals;
    if (name === undefined) throw new UsageError("no command given");
    const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!command) throw new UsageError(`unknown command "${name}"`);
    if (rest.length < command.minArgs || rest.length > command.maxArgs) {
      throw new UsageError(`${name} takes ${command.args || "no arguments"}`);
    }
    const env = io.env ?? process.env;
    const connection = new Connection(resolveUrl(args.url, env), args.token ?? env.MANTRID_TOKEN);
    const context: CommandContext = {
      args: rest,
      json: args.json,
      print: (line) => stdout(`${line}\n`),
      async call(method, path, body) {
        const answer = await connection.request(method, path, body);
        if (args.json) stdout(answer.text.endsWith("\n") ? answer.text : `${answer.text}\n`);
        if (answer.status < 200 || answer.status > 299) throw new Failure(errorLine(answer));
        if (answer.body === undefined) {
          throw new Failure(
            `${connection.url} did not answer with JSON; is it mantrid's management API?`,
          );
        }
        return answer.body;
      },
      readInput: (source) => readInput(source, io.stdin),
    };
    await command.run(context);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      stderr(`mantrid client: ${error.message}\n\n${usage()}`);
      return 2;
    }
    const message = error instanceof Error ? error.message : String(error);
    stderr(`mantrid client: ${message}\n`);
    return 1;
  }
}

async function readInput(name: string | undefined, stdin?: () => Promise<string>): Promise<string> {
  if (name !== undefined && name !== "-") {
    try {
      return await readFile(name, "utf8");
    } catch (error) {
      throw new Failure(`cannot read ${name}: ${(error as Error).message}`);
    }
  }
  if (stdin) return stdin();
  // Waiting on a terminal would look like a hang.
  if (process.stdin.isTTY) throw new UsageError("load needs a file name, or a rule set piped in");
  return Bun.stdin.text();
}
