/**
 * SIGUSR2 and SIGHUP: the running server starts the program at its own path
 * (a new binary, if one was put there) with its own arguments and
 * `--takeover`, as nginx upgrades its binary. The new process reads every
 * setting anew and takes over; if it fails, this one carries on and says so.
 */
import type { Config } from "../config/config.ts";
import { log } from "../log.ts";
import { selfCommand } from "../system/self-command.ts";

/** This program's command line again, with `--takeover`. */
export function successorCommand(args: readonly string[], self = selfCommand()): string[] {
  const [program, ...entry] = self;
  // Once the file has been replaced, Linux names the running one "<path> (deleted)";
  // the path itself now holds the new binary, which is the one wanted.
  const path = program!.replace(/ \(deleted\)$/, "");
  const rest = args.includes("--takeover") ? args : [...args, "--takeover"];
  return [path, ...entry, ...rest];
}

export class Relauncher {
  private starting: number | null = null;
  private tookOver: number | null = null;

  constructor(
    private readonly args: readonly string[],
    superseded: Promise<number>,
    /** Why no successor could take over from this process, if none can. */
    private readonly cannot: string | null = null,
  ) {
    void superseded.then((pid) => {
      this.tookOver = pid;
    });
  }

  /** Starts a successor, logging one line for `signal`; later, a line if it failed. */
  start(signal: string, why: string): void {
    if (this.tookOver !== null) {
      log.info(`${signal}: pid ${this.tookOver} has taken over already; ignored`);
      return;
    }
    if (this.starting !== null) {
      log.info(`${signal}: pid ${this.starting} is taking over already; ignored`);
      return;
    }
    if (this.cannot !== null) {
      log.warn(`${signal}: ${this.cannot}; carrying on`);
      return;
    }
    const command = successorCommand(this.args);
    let child: ReturnType<typeof Bun.spawn>;
    try {
      // Its log goes where this one's goes; it outlives this process.
      child = Bun.spawn(command, { stdin: "ignore", stdout: "inherit", stderr: "inherit" });
    } catch (error) {
      log.error(`${signal}: cannot start ${command[0]}: ${(error as Error).message}; carrying on`);
      return;
    }
    child.unref();
    const pid = child.pid;
    this.starting = pid;
    log.info(`${signal}: ${why}; started ${command.join(" ")} (pid ${pid}) to take over`);
    void child.exited.then((code) => {
      if (this.tookOver === pid) return;
      this.starting = null;
      log.warn(
        `${signal}: the new server (pid ${pid}) exited with code ${code} before taking over ` +
          "(its own log line says why); this one carries on",
      );
    });
  }
}

/**
 * The kernel shares a port only between sockets of one user. A server that
 * bound as root and then became another user starts its successors as that
 * user, who could not listen beside it.
 */
export function whyNoSuccessor(config: Config): string | null {
  if (config.uid === null || config.uid === 0) return null;
  return (
    `this server dropped root for uid ${config.uid}, and a process it starts could not ` +
    "listen beside it: run mantrid serve --takeover as root instead"
  );
}

/**
 * SIGHUP: the configuration read again. Invalid, it is logged (file and line)
 * and nothing changes; valid, a new process takes over with it.
 */
export async function reloadConfig(
  load: () => Promise<Config>,
  current: Config,
  relauncher: Relauncher,
): Promise<void> {
  let next: Config;
  try {
    next = await load();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log.error(`SIGHUP: ${message}; carrying on unchanged`);
    return;
  }
  if (next.stateFile !== current.stateFile) {
    log.error(
      `SIGHUP: state_file is now ${next.stateFile}, but a takeover keeps ${current.stateFile}: ` +
        "restart to move the state; carrying on unchanged",
    );
    return;
  }
  relauncher.start("SIGHUP", `${next.configFile ?? "the configuration"} is valid`);
}
