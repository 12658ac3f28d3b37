/** The client's subcommands, in the order the help lists them. */
import type { StatsRecord } from "../stats/host-stats.ts";
import { BACKEND_COMMANDS } from "./backends.ts";
import { certCommand } from "./cert.ts";
import { type ClientCommand, defineClientCommand, hostArg, hostPath } from "./context.ts";
import { ruleTable, sortedEntries, statsTable } from "./format.ts";
import { loadCommand } from "./load.ts";
import { setCommand } from "./set.ts";
import { topCommand } from "./top.ts";

const HOST = {
  type: "positional",
  required: true,
  description: "The hostname, e.g. example.com",
} as const;

export const COMMANDS: Record<string, ClientCommand> = {
  list: defineClientCommand({
    description: "Show every rule",
    args: {},
    async run(_args, { json, call, print }) {
      const rules = (await call("GET", "/hostname/")) as Record<string, unknown>;
      if (json) return;
      for (const line of ruleTable(rules)) print(line);
    },
  }),
  get: defineClientCommand({
    description: "Show one rule",
    args: { host: HOST },
    async run(args, { json, call, print }) {
      const host = hostArg(args.host);
      const rule = await call("GET", hostPath("hostname", host));
      if (json) return;
      for (const line of ruleTable({ [host]: rule })) print(line);
    },
  }),
  set: setCommand,
  delete: defineClientCommand({
    description: "Remove a rule",
    args: { host: HOST },
    async run(args, { json, call, print }) {
      const host = hostArg(args.host);
      await call("DELETE", hostPath("hostname", host));
      if (!json) print(`deleted ${host}`);
    },
  }),
  stats: defineClientCommand({
    description: "Show open and completed requests and bytes, per host",
    args: { host: { ...HOST, required: false, description: "Only this host" } },
    async run(args, { json, call, print }) {
      const host = args.host === undefined ? undefined : hostArg(args.host);
      const answer = await call("GET", host ? hostPath("stats", host) : "/stats/");
      if (json) return;
      const records = (host ? { [host]: answer } : answer) as Record<string, StatsRecord>;
      for (const line of statsTable(records)) print(line);
    },
  }),
  top: topCommand,
  ...BACKEND_COMMANDS,
  cert: certCommand,
  dump: defineClientCommand({
    description: "Print every rule as a JSON rule set, for load",
    args: {},
    async run(_args, { json, call, print }) {
      const rules = (await call("GET", "/hostname/")) as Record<string, unknown>;
      if (json) return;
      print(JSON.stringify(Object.fromEntries(sortedEntries(rules)), null, 2));
    },
  }),
  load: loadCommand,
};
