#!/usr/bin/env bun
/**
 * The one executable: `mantrid [serve]` runs the balancer, `mantrid client …`
 * talks to a running one. Run under the name `mantrid-client`, it is the client.
 */
import { basename } from "node:path";
import { defineCommand, runMain } from "citty";
import { clientCommand, runClient } from "./client/index.ts";
import { runServe, serveCommand } from "./serve-command.ts";
import { VERSION } from "./version.ts";

const main = defineCommand({
  meta: { name: "mantrid", version: VERSION, description: "HTTP load balancer configured at runtime" },
  subCommands: { serve: serveCommand, client: clientCommand },
});

const argv = process.argv.slice(2);
const invokedAs = basename(process.argv0 ?? "");

if (invokedAs === "mantrid-client") {
  process.exit(await runClient(argv));
} else if (argv[0] === "client") {
  process.exit(await runClient(argv.slice(1)));
} else if (argv.includes("--help") || argv.includes("-h") || argv[0] === "--version") {
  await runMain(main, { rawArgs: argv });
} else {
  process.exit(await runServe(argv[0] === "serve" ? argv.slice(1) : argv));
}
