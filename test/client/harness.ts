/** Runs the client in this process, capturing what it prints. */
import { runClient } from "../../src/client/index.ts";

export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  stdin?: string;
}

export async function client(argv: string[], options: RunOptions = {}): Promise<Outcome> {
  let stdout = "";
  let stderr = "";
  const code = await runClient(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: options.env ?? {},
    stdin: async () => {
      if (options.stdin === undefined) throw new Error("this test gave no stdin");
      return options.stdin;
    },
  });
  return { code, stdout, stderr };
}
