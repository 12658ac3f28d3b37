/** One run of the client: where its output goes, and the context its command is given. */
import { readFile } from "node:fs/promises";
import {
  Connection,
  errorLine,
  isApiAnswer,
  notApiLine,
  resolveUrl,
  WAIT_SECONDS,
} from "./connection.ts";
import type { CommandContext } from "./context.ts";
import { Failure, UsageError } from "./errors.ts";

/** Where the client writes and reads; tests give their own. */
export interface ClientIO {
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  env?: Record<string, string | undefined>;
  stdin?: () => Promise<string>;
}

/** The client's flags, wherever on the line they were. */
export interface ClientFlags {
  url?: string;
  token?: string;
  json?: boolean;
  wait?: boolean;
}

export function createContext(flags: ClientFlags, io: ClientIO): CommandContext {
  const stdout = io.stdout ?? ((text: string) => process.stdout.write(text));
  const env = io.env ?? process.env;
  const json = flags.json === true;
  // Checked before the command runs, so a wrong URL is a usage error whatever the command.
  const url = resolveUrl(flags.url, env);
  const token = flags.token ?? env.MANTRID_TOKEN;
  const connection = new Connection(url, token, flags.wait ? WAIT_SECONDS : 0);
  return {
    json,
    print: (line) => stdout(`${line}\n`),
    terminal: io.stdout === undefined && process.stdout.isTTY === true,
    async call(method, path, body) {
      const answer = await connection.request(method, path, body);
      if (!isApiAnswer(answer)) throw new Failure(notApiLine(url, answer));
      if (json) stdout(answer.text.endsWith("\n") ? answer.text : `${answer.text}\n`);
      if (answer.status < 200 || answer.status > 299) throw new Failure(errorLine(answer));
      return answer.body;
    },
    readInput: (name) => readInput(name, io.stdin),
  };
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
