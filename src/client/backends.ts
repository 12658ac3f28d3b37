/**
 * `mantrid client backends [address]`: every backend address the rules name,
 * as a table; `drain|disable|enable <address>`: an operator's say over one.
 * Plain functions of the command context and the arguments, and the same as
 * commands for the client's table (`BACKEND_COMMANDS`).
 */
import { parseBackendKey } from "../backend/admin.ts";
import { summarise } from "../management/summary.ts";
import { type ClientCommand, type CommandContext, defineClientCommand } from "./context.ts";
import { Failure } from "./errors.ts";
import { sortedEntries, table } from "./format.ts";

/** What the client needs of its context: a call to the API, a line out, and `--json`. */
export type BackendsContext = Pick<CommandContext, "json" | "print" | "call">;

/** One address as `GET /backend/` answers. */
interface BackendView {
  state: string;
  check: { ok: boolean; status: number; ms: number; at: string; error?: string } | null;
  active: number;
  requests: number;
  failures: number;
  rules: string[];
}

type Request = "drain" | "disable" | "enable";

const COLUMNS = ["ADDRESS", "STATE", "ACTIVE", "REQUESTS", "FAILURES", "LAST CHECK", "RULES"];
const WIDTHS = [21, 9, 6, 8, 8, 10, 0];
/** Rules named in the table before "and N more". */
const RULES_SHOWN = 3;

/** `backends [address]`: the table of every backend address, or of one. */
export async function backends(
  context: BackendsContext,
  args: { address?: string },
): Promise<number> {
  const key = args.address === undefined ? undefined : addressArg(args.address);
  const answer = await context.call("GET", key === undefined ? "/backend/" : backendPath(key));
  if (context.json) return 0;
  const views = (key === undefined ? answer : { [key]: answer }) as Record<string, BackendView>;
  for (const line of backendTable(views)) context.print(line);
  return 0;
}

export const drain = (context: BackendsContext, args: { address: string }) =>
  changeBackend(context, "drain", args.address);
export const disable = (context: BackendsContext, args: { address: string }) =>
  changeBackend(context, "disable", args.address);
export const enable = (context: BackendsContext, args: { address: string }) =>
  changeBackend(context, "enable", args.address);

/** Prints the answer in one line, e.g. `draining 127.0.0.1:8000: 3 in flight`. */
async function changeBackend(
  context: BackendsContext,
  request: Request,
  address: string,
): Promise<number> {
  const key = addressArg(address);
  const answer = (await context.call("PUT", backendPath(key), { state: request })) as {
    state: string;
    in_flight: number;
  };
  if (context.json) return 0;
  if (request === "enable") context.print(`enabled ${key}: ${answer.state}`);
  else context.print(`${answer.state} ${key}: ${answer.in_flight} in flight`);
  return 0;
}

export function backendTable(views: Record<string, BackendView>, now = Date.now()): string[] {
  const rows = sortedEntries(views).map(([address, view]) => [
    address,
    view.state,
    String(view.active),
    String(view.requests),
    String(view.failures),
    checkText(view.check, now),
    rulesText(view.rules),
  ]);
  return table(COLUMNS, rows, WIDTHS).map((line) => line.trimEnd());
}

/** `200 in 1.2 ms, 3 s ago`, `failed: refused, 3 s ago`, or `-` before the first check. */
function checkText(check: BackendView["check"], now: number): string {
  if (check === null) return "-";
  const ago = `${Math.max(0, Math.round((now - Date.parse(check.at)) / 1000))} s ago`;
  if (check.ok) return `${check.status} in ${check.ms} ms, ${ago}`;
  const why = check.error ?? (check.status > 0 ? `status ${check.status}` : "no answer");
  return `failed: ${why}, ${ago}`;
}

function rulesText(rules: string[]): string {
  if (rules.length <= RULES_SHOWN) return rules.join(",");
  return `${rules.slice(0, RULES_SHOWN).join(",")} and ${rules.length - RULES_SHOWN} more`;
}

/** The canonical `host:port`, checked here so a typo fails before anything is sent. */
function addressArg(text: string): string {
  const parsed = parseBackendKey(text);
  if (parsed.ok) return parsed.value;
  throw new Failure(summarise(`address "${text}"`, parsed.problems));
}

function backendPath(key: string): string {
  return `/backend/${encodeURIComponent(key)}/`;
}

const ADDRESS = {
  type: "positional",
  required: true,
  description: "The backend, host:port (IPv6 as [::1]:8000)",
} as const;

/** The commands ready for the client's table: `{...COMMANDS, ...BACKEND_COMMANDS}`. */
export const BACKEND_COMMANDS: Record<string, ClientCommand> = {
  backends: defineClientCommand({
    description: "Show each backend: state, requests in flight, counters, last check, rules",
    args: { address: { ...ADDRESS, required: false, description: "Only this backend" } },
    async run(args, context) {
      await backends(context, { address: args.address });
    },
  }),
  drain: adminCommand("Send a backend no new requests; those in flight finish", drain),
  disable: adminCommand("Take a backend out of service", disable),
  enable: adminCommand("Send a drained or disabled backend requests again", enable),
};

function adminCommand(
  description: string,
  run: (context: CommandContext, args: { address: string }) => Promise<number>,
): ClientCommand {
  return defineClientCommand({
    description,
    args: { address: ADDRESS },
    async run(args, context) {
      await run(context, { address: args.address });
    },
  });
}
