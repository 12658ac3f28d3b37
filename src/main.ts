#!/usr/bin/env bun
/**
 * The one executable: `mantrid [serve]` runs the balancer, `mantrid client …`
 * talks to a running one. Run under the name `mantrid-client`, it is the client.
 */
import "./plain-output.ts";
import { basename } from "node:path";
import { defineCommand, runMain } from "citty";
import { clientCommand, runClient } from "./client/index.ts";
import { runServe, serveCommand } from "./serve-command.ts";
import { restartWithAllocatorTuning } from "./system/allocator.ts";
import { VERSION } from "./version.ts";
import { WORKER_ENV } from "./workers/messages.ts";
import { runWorker } from "./workers/worker.ts";

const main = defineCommand({
  meta: {
    name: "mantrid",
    version: VERSION,
    description: "HTTP load balancer configured at runtime",
  },
  subCommands: { serve: serveCommand, client: clientCommand },
});

/** Which program this is: the client by name or by first word, else the server. */
async function run(argv: string[], invokedAs: string): Promise<number> {
  if (process.env[WORKER_ENV] === "1") return runWorker();
  if (invokedAs === "mantrid-client") return runClient(argv);
  if (argv[0] === "client") return runClient(argv.slice(1));
  if (argv.includes("--help") || argv.includes("-h") || argv[0] === "--version") {
    await runMain(main, { rawArgs: argv });
    return 0;
  }
  restartWithAllocatorTuning(argv);
  return runServe(argv[0] === "serve" ? argv.slice(1) : argv);
}

// Compiled with bytecode the entry is not a module, so no top-level await.
run(process.argv.slice(2), basename(process.argv0 ?? "")).then((code) => process.exit(code));
