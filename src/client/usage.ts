/** The help text, built from the command table so the two cannot drift apart. */
import { COMMANDS } from "./commands.ts";
import { DEFAULT_URL } from "./connection.ts";

const ACTIONS = [
  ["proxy", "backends=HOST:PORT,... [attempts=N] [delay=SECONDS]  (IPv6 as [::1]:PORT)"],
  ["static", "type=NAME"],
  ["redirect", "redirect_to=URL"],
  ["empty", "code=STATUS"],
  ["spin", "[timeout=SECONDS] [check_interval=SECONDS]"],
  ["unknown", ""],
  ["no_hosts", ""],
];

export function usage(): string {
  const commands = Object.entries(COMMANDS).flatMap(([name, command]) => {
    const synopsis = `${name}${command.args ? ` ${command.args}` : ""}`;
    return synopsis.length > 26
      ? [`  ${synopsis}`, `  ${"".padEnd(26)}  ${command.summary}`]
      : [`  ${synopsis.padEnd(26)}  ${command.summary}`];
  });
  return [
    "Usage: mantrid client [options] <command> [arguments]",
    "",
    "Commands:",
    ...commands,
    "",
    "Actions and their options (for set):",
    ...ACTIONS.map(([action, options]) => `  ${action!.padEnd(10)}${options}`.trimEnd()),
    "",
    "Options (anywhere on the line):",
    `  --url URL      management API (default: $MANTRID_URL, else ${DEFAULT_URL})`,
    "  --token TOKEN  bearer token for the management API (default: $MANTRID_TOKEN)",
    "  --json         print the API's JSON answer as it is",
    "  -h, --help     show this help",
    "",
  ].join("\n");
}
