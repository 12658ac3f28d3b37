/** The `serve` command line: flags into a Config, then run until SIGINT/SIGTERM. */
import { parseArgs } from "node:util";
import { defineCommand } from "citty";
import { ConfigError } from "./config/config.ts";
import { describeConfig, loadConfig } from "./config/load.ts";
import { log } from "./log.ts";
import { serve } from "./serve.ts";
import { StateFileError } from "./store/state-file.ts";
import { isSystemError } from "./system/file-error.ts";

const FLAGS = {
  config: { type: "string", short: "c" },
  bind: { type: "string", multiple: true },
  "bind-internal": { type: "string", multiple: true },
  management: { type: "string", multiple: true },
  "state-file": { type: "string" },
  "static-dir": { type: "string" },
  workers: { type: "string" },
  "management-token": { type: "string" },
  "insecure-management": { type: "boolean" },
  debug: { type: "boolean" },
} as const;

export const serveCommand = defineCommand({
  meta: { name: "serve", description: "Run the load balancer (the default command)" },
  args: {
    config: {
      type: "string",
      alias: "c",
      description: "Config file (default /etc/mantrid/mantrid.conf)",
    },
    bind: { type: "string", description: "External listener, e.g. *:80 (repeatable, or a,b)" },
    "bind-internal": {
      type: "string",
      description: "Trusted listener behind a TLS terminator (repeatable)",
    },
    management: {
      type: "string",
      description: "Management API address (default 127.0.0.1:8042 and [::1]:8042)",
    },
    "state-file": {
      type: "string",
      description: "Where rules are kept (default /var/lib/mantrid/state.json)",
    },
    "static-dir": {
      type: "string",
      description: "Folder of <type>.http pages (default /etc/mantrid/static/)",
    },
    workers: {
      type: "string",
      description: "Processes sharing the listeners (default 1)",
    },
    "management-token": {
      type: "string",
      description: "Require Authorization: Bearer <token> on the API",
    },
    "insecure-management": {
      type: "boolean",
      description: "Allow a non-loopback API without a token",
    },
    debug: { type: "boolean", description: "Log debug lines" },
  },
  async run({ rawArgs }) {
    process.exitCode = await runServe(rawArgs);
  },
});

/** Runs the server; resolves with the exit code once it has stopped. */
export async function runServe(argv: string[]): Promise<number> {
  let running: Awaited<ReturnType<typeof serve>>;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: FLAGS,
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length > 0) throw new ConfigError(`unexpected argument "${positionals[0]}"`);
    const config = await loadConfig({
      config: values.config,
      bind: values.bind,
      bindInternal: values["bind-internal"],
      management: values.management,
      stateFile: values["state-file"],
      staticDir: values["static-dir"],
      workers: values.workers,
      managementToken: values["management-token"],
      insecureManagement: values["insecure-management"],
      debug: values.debug,
    });
    for (const line of describeConfig(config)) log.info(line);
    running = await serve(config);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof StateFileError || isArgError(error)) {
      log.error((error as Error).message);
      return 1;
    }
    // Any other refusal from the system (a chown, a file) is still one line, not a stack trace.
    if (isSystemError(error)) {
      log.error(`cannot start: ${error.message}`);
      return 1;
    }
    throw error;
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info(`${signal}: stopping`);
      resolve();
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  await running.stop();
  log.info("stopped; state saved");
  return 0;
}

function isArgError(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code?.startsWith("ERR_PARSE_ARGS") === true;
}
