/** The `serve` command line: its flags, declared once, into a Config, then run until SIGINT/SIGTERM. */
import type { ArgDef } from "citty";
import { type Command, Exit, flagProblem, flagValues, helpText } from "./command-line.ts";
import type { ListenAddress } from "./config/address.ts";
import { type Config, DEFAULTS } from "./config/config.ts";
import { KEY_NAMES } from "./config/file.ts";
import {
  type ConfigFlags,
  DEFAULT_CONFIG_PATH,
  describeConfig,
  loadConfig,
  TOKEN_VARIABLE,
} from "./config/load.ts";
import { log } from "./log.ts";
import { serve } from "./serve.ts";
import { isSystemError } from "./system/file-error.ts";
import { isStartRefusal } from "./takeover/arrival.ts";
import { Relauncher, reloadConfig, whyNoSuccessor } from "./takeover/relaunch.ts";

/** A flag, and the config file key it sets if any; address flags may repeat. */
type Flag = ArgDef & { key?: string; repeatable?: boolean };

const list = (addresses: readonly ListenAddress[]) =>
  addresses.length === 0 ? "none" : addresses.map((address) => address.text).join(", ");

/** Every flag of `mantrid` / `mantrid serve`: what citty parses, what the help lists. */
export const SERVE_FLAGS = {
  config: {
    type: "string",
    alias: "c",
    valueHint: "path",
    description: `Configuration file (default: ${DEFAULT_CONFIG_PATH} if it exists)`,
  },
  bind: {
    type: "string",
    valueHint: "addr",
    key: "bind",
    repeatable: true,
    description: `Listener for traffic; repeat or give a,b (default: ${list(DEFAULTS.bind)})`,
  },
  "bind-internal": {
    type: "string",
    valueHint: "addr",
    key: "bind_internal",
    repeatable: true,
    description: `Trusted listener behind a TLS terminator (default: ${list(DEFAULTS.bindInternal)})`,
  },
  "bind-tls": {
    type: "string",
    valueHint: "addr",
    key: "bind_tls",
    repeatable: true,
    description: `TLS listener for traffic, certificates by SNI (default: ${list(DEFAULTS.bindTls)})`,
  },
  management: {
    type: "string",
    valueHint: "addr",
    key: "bind_management",
    repeatable: true,
    description: `Management API address (default: ${list(DEFAULTS.bindManagement)})`,
  },
  "state-file": {
    type: "string",
    valueHint: "path",
    key: "state_file",
    description: `Where the rules are kept (default: ${DEFAULTS.stateFile})`,
  },
  "static-dir": {
    type: "string",
    valueHint: "path",
    key: "static_dir",
    description: `Folder of <type>.http pages (default: ${DEFAULTS.staticDir})`,
  },
  workers: {
    type: "string",
    valueHint: "n",
    key: "workers",
    description: `Processes sharing the listeners (default: ${DEFAULTS.workers})`,
  },
  "management-token": {
    type: "string",
    valueHint: "token",
    key: "management_token",
    description: `Require this bearer token on the API (default: $${TOKEN_VARIABLE}, else none)`,
  },
  "insecure-management": {
    type: "boolean",
    description: "Allow a management address that is not loopback without a token",
  },
  "access-log": {
    type: "string",
    valueHint: "path",
    key: "access_log",
    description: "One JSON line per request to this file, or - for stderr (default: none)",
  },
  debug: { type: "boolean", key: "debug", description: "Log debug lines too" },
  takeover: {
    type: "boolean",
    description: "Take over from the server running on the same state file, dropping no request",
  },
  help: { type: "boolean", alias: "h", description: "Show this help" },
} as const satisfies Record<string, Flag>;

/** The keys no flag sets, named in the help so nobody looks for a flag in vain. */
const FILE_ONLY_KEYS = KEY_NAMES.filter(
  (name) => !Object.values(SERVE_FLAGS).some((flag) => "key" in flag && flag.key === name),
);

/** The end of `mantrid --help` and `mantrid serve --help`. */
export const SERVE_EPILOGUE = [
  "A flag overrides the configuration file's key of the same name. These keys are",
  'set in the file only (see "Running" in the README):',
  ...wrap(FILE_ONLY_KEYS.join(", "), 78).map((line) => `  ${line}`),
].join("\n");

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(" ")) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last]!.length + word.length < width) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  return lines;
}

/** The flags as loadConfig takes them; undefined where not given, so the file's key stands. */
function configFlags(args: Record<string, unknown>, rawArgs: readonly string[]): ConfigFlags {
  const every = (name: string) => flagValues(rawArgs, SERVE_FLAGS, name);
  return {
    config: args.config as string | undefined,
    bind: every("bind"),
    bindInternal: every("bind-internal"),
    management: every("management"),
    bindTls: every("bind-tls"),
    stateFile: args["state-file"] as string | undefined,
    staticDir: args["static-dir"] as string | undefined,
    workers: args.workers as string | undefined,
    managementToken: args["management-token"] as string | undefined,
    insecureManagement: args["insecure-management"] as boolean | undefined,
    debug: args.debug as boolean | undefined,
    accessLog: args["access-log"] as string | undefined,
  };
}

/** A command-line mistake of the server's: one line, exit 1 as any refusal to start. */
export function serveMistake(message: string): Exit {
  return new Exit(1, `mantrid: ${message}; see mantrid --help`);
}

/** `serve`, which calls `start` with the flags and exits with what it resolves to. */
export function serveCommand(
  start: (flags: ConfigFlags, takeover: boolean) => Promise<number>,
  print: (text: string) => void,
  plain: boolean,
): Command {
  const command: Command = {
    meta: { name: "mantrid serve", description: "Run the load balancer; the default command" },
    args: SERVE_FLAGS,
    epilogue: SERVE_EPILOGUE,
    async run({ args, rawArgs }) {
      const problem = flagProblem(rawArgs, SERVE_FLAGS);
      if (problem) throw serveMistake(problem);
      if (args._.length > 0) throw serveMistake(`unexpected argument "${args._[0]}"`);
      if (args.help) {
        print(await helpText(command, plain));
        throw new Exit(0);
      }
      const code = await start(configFlags(args, rawArgs), args.takeover === true);
      if (code !== 0) throw new Exit(code);
    },
  };
  return command;
}

/**
 * Runs the server (with `takeover`, in place of the one running on the same
 * state file); resolves with the exit code once it has stopped, or once a
 * successor has taken over and the requests in flight here have finished.
 */
export async function runServe(flags: ConfigFlags, takeover = false): Promise<number> {
  let running: Awaited<ReturnType<typeof serve>>;
  let config: Config;
  // Caught from the first moment: a stop asked for while starting is carried out once
  // started, rather than ending the process half way (with the default handler).
  const stopSignal = new Promise<string>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  try {
    config = await loadConfig(flags);
    for (const line of describeConfig(config)) log.info(line);
    running = await serve(config, { takeover });
  } catch (error) {
    if (isStartRefusal(error)) {
      log.error(error.message);
      return 1;
    }
    // Any other refusal from the system (a chown, a file) is still one line, not a stack trace.
    if (isSystemError(error)) {
      log.error(`cannot start: ${error.message}`);
      return 1;
    }
    throw error;
  }
  // Sent by logrotate after it renamed the file; without a handler it would end the process.
  const accessLog = config.accessLog;
  const reopen = () => {
    if (accessLog === null || accessLog === "-") return log.info("SIGUSR1: no access log file");
    log.info("SIGUSR1: reopening the access log");
    void running.reopenLogs();
  };
  process.on("SIGUSR1", reopen);
  // A new process takes over: with the binary now at this one's path (SIGUSR2), or with
  // the configuration read again, cert_dir included (SIGHUP). Either would end the process
  // without a handler.
  const args = process.argv.slice(2);
  const relauncher = new Relauncher(args, running.superseded, whyNoSuccessor(config));
  const upgrade = () => relauncher.start("SIGUSR2", "upgrading");
  const reload = () => void reloadConfig(() => loadConfig(flags), config, relauncher);
  process.on("SIGUSR2", upgrade);
  process.on("SIGHUP", reload);
  const signal = await Promise.race([stopSignal, running.superseded.then(() => null)]);
  if (signal !== null) log.info(`${signal}: stopping`);
  await running.stop();
  process.off("SIGUSR1", reopen);
  process.off("SIGUSR2", upgrade);
  process.off("SIGHUP", reload);
  const successor = running.successorPid();
  log.info(successor === null ? "stopped; state saved" : `stopped; pid ${successor} carries on`);
  return 0;
}
