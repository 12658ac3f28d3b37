/**
 * What every mantrid command shares on top of citty: citty parses, and accepts
 * any flag silently, so each command checks its line against the flags it
 * declares here; help comes from the same declarations; and every way a run
 * ends is one Exit, turned into an exit code and at most one line on stderr.
 */
import {
  type ArgsDef,
  type CommandDef,
  type PositionalArgDef,
  renderUsage,
  runCommand,
} from "citty";

/** A command whose help ends with text of its own (settings, actions). */
export type Command = CommandDef<ArgsDef> & { epilogue?: string };

/** How a run ends early: the exit code and the one line for stderr (none when empty). */
export class Exit extends Error {
  constructor(
    readonly code: number,
    message = "",
  ) {
    super(message);
  }
}

interface Scan {
  problem?: string;
  /** Every value given to each flag, in order. */
  values: Map<string, string[]>;
  /** Where the subcommand's name is, with `stopAtCommand`; else -1. */
  command: number;
}

/**
 * Reads the flags as citty does (a flag that takes a value takes the next word
 * unless it has `=`; `--` ends the flags). With `stopAtCommand`, the first
 * word that is not a flag's is the subcommand, and what follows is its own.
 */
function scan(rawArgs: readonly string[], flags: ArgsDef, stopAtCommand: boolean): Scan {
  const byName = new Map<string, string>();
  for (const [name, def] of Object.entries(flags)) {
    if (def.type === "positional") continue;
    byName.set(`--${name}`, name);
    const aliases = "alias" in def && def.alias !== undefined ? [def.alias].flat() : [];
    for (const alias of aliases) byName.set(`${alias.length === 1 ? "-" : "--"}${alias}`, name);
  }
  const values = new Map<string, string[]>();
  const stop = (problem?: string, command = -1): Scan => ({ problem, values, command });
  for (let i = 0; i < rawArgs.length; i++) {
    const word = rawArgs[i]!;
    if (word === "--") break;
    // A lone "-" is a value (stdin for `load`); only dashed words are flags.
    if (word === "-" || !word.startsWith("-")) {
      if (stopAtCommand) return stop(undefined, i);
      continue;
    }
    const eq = word.indexOf("=");
    const spelled = eq < 0 ? word : word.slice(0, eq);
    const name = byName.get(spelled);
    if (name === undefined) return stop(`unknown option ${spelled}`);
    if (flags[name]!.type === "boolean") {
      if (eq >= 0) return stop(`${spelled} takes no value`);
      continue;
    }
    if (eq < 0 && i + 1 >= rawArgs.length) return stop(`${spelled} needs a value`);
    const value = eq < 0 ? rawArgs[++i]! : word.slice(eq + 1);
    values.set(name, [...(values.get(name) ?? []), value]);
  }
  return stop();
}

/** What is wrong with the flags on a line, in a few words, or undefined. */
export function flagProblem(rawArgs: readonly string[], flags: ArgsDef): string | undefined {
  return scan(rawArgs, flags, false).problem;
}

/**
 * Where a parent's subcommand is named (-1 when none is), as citty finds it:
 * the first word that is no flag and no flag's value.
 */
export function commandIndex(rawArgs: readonly string[], flags: ArgsDef): number {
  return scan(rawArgs, flags, true).command;
}

/** Every value of a flag that may repeat (citty keeps only the last). */
export function flagValues(rawArgs: readonly string[], flags: ArgsDef, name: string): string[] {
  return scan(rawArgs, flags, false).values.get(name) ?? [];
}

/** A last positional argument that takes every remaining word (read them from `args._`). */
export function rest<T extends PositionalArgDef>(def: T): T {
  return { ...def, required: false, rest: true };
}

/**
 * `get takes <host>` when a command is given too few or too many positional
 * arguments; its synopsis is built from their declarations.
 */
export function countProblem(name: string, args: ArgsDef, count: number): string | undefined {
  const declared = Object.entries(args).filter(([, def]) => def.type === "positional");
  const isRest = (def: object) => (def as { rest?: boolean }).rest === true;
  const words = declared.map(([name, def]) => {
    const word = def.valueHint ?? name;
    if (isRest(def)) return `[${word} ...]`;
    return def.required === false || def.default !== undefined ? `[${word}]` : `<${word}>`;
  });
  const min = words.filter((word) => word.startsWith("<")).length;
  const max = declared.some(([, def]) => isRest(def)) ? Number.POSITIVE_INFINITY : words.length;
  if (count >= min && count <= max) return undefined;
  return `${name} takes ${words.join(" ") || "no arguments"}`;
}

/** The help of a command as citty renders it, then its own text; without colour when `plain`. */
export async function helpText(command: Command, plain: boolean): Promise<string> {
  const usage = (await renderUsage(command)).trimEnd();
  const text = [usage, command.epilogue].filter(Boolean).join("\n\n");
  // citty pads every column, the last one too.
  const lines = text.split("\n").map((line) => line.trimEnd());
  return `${(plain ? lines.map(withoutColour) : lines).join("\n")}\n`;
}

function withoutColour(text: string): string {
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

/** The subcommand a word names; own names only, so `toString` is no command. */
export async function subcommand(parent: Command, name: string): Promise<Command | undefined> {
  const table = (await resolve(parent.subCommands)) ?? {};
  return Object.hasOwn(table, name) ? ((await resolve(table[name])) as Command) : undefined;
}

async function resolve<T>(value: T | Promise<T> | (() => T | Promise<T>)): Promise<T> {
  return typeof value === "function" ? (value as () => T | Promise<T>)() : value;
}

/**
 * `help [command ...]`: prints the help of `parent` or of the command named.
 * `mistake` makes the error for a name that is no command.
 */
export function helpCommand(
  parent: () => Command,
  print: (text: string) => void,
  plain: boolean,
  mistake: (message: string) => Error,
): Command {
  return {
    meta: { name: "help", description: "Show this help, or a command's" },
    args: {
      command: rest({ type: "positional", description: "A command, or a command and its own" }),
    },
    async run({ args }) {
      let command = parent();
      for (const name of args._) {
        command =
          (await subcommand(command, name)) ?? throwError(mistake(`unknown command "${name}"`));
      }
      print(await helpText(command, plain));
    },
  };
}

function throwError(error: Error): never {
  throw error;
}

/** Runs a command tree; resolves with the exit code, having printed the line of an Exit. */
export async function runCommandLine(
  command: Command,
  rawArgs: string[],
  stderr: (text: string) => void,
): Promise<number> {
  try {
    await runCommand(command, { rawArgs });
    return 0;
  } catch (error) {
    if (error instanceof Exit) {
      if (error.message) stderr(`${error.message}\n`);
      return error.code;
    }
    // citty's own refusals; the checks above leave none expected.
    if ((error as Error).name === "CLIError") {
      stderr(`${withoutColour((error as Error).message)}\n`);
      return 1;
    }
    throw error;
  }
}
