/** The client's subcommands, in the order the help lists them. */
import type { StatsRecord } from "../stats/host-stats.ts";
import { type Command, hostArg, hostPath } from "./context.ts";
import { RULE_HEADER, ruleLines, STATS_HEADER, sortedEntries, statsLines } from "./format.ts";
import { loadCommand } from "./load.ts";
import { setCommand } from "./set.ts";

export const COMMANDS: Record<string, Command> = {
  list: {
    args: "",
    summary: "show every rule",
    minArgs: 0,
    maxArgs: 0,
    async run({ json, call, print }) {
      const rules = (await call("GET", "/hostname/")) as Record<string, unknown>;
      if (json) return;
      print(RULE_HEADER);
      for (const line of ruleLines(rules)) print(line);
    },
  },
  get: {
    args: "<host>",
    summary: "show one rule",
    minArgs: 1,
    maxArgs: 1,
    async run({ args, json, call, print }) {
      const host = hostArg(args[0]!);
      const rule = await call("GET", hostPath("hostname", host));
      if (json) return;
      print(RULE_HEADER);
      for (const line of ruleLines({ [host]: rule })) print(line);
    },
  },
  set: setCommand,
  delete: {
    args: "<host>",
    summary: "remove a rule",
    minArgs: 1,
    maxArgs: 1,
    async run({ args, call }) {
      await call("DELETE", hostPath("hostname", hostArg(args[0]!)));
    },
  },
  stats: {
    args: "[host]",
    summary: "show open and completed requests and bytes, per host",
    minArgs: 0,
    maxArgs: 1,
    async run({ args, json, call, print }) {
      const host = args[0] === undefined ? undefined : hostArg(args[0]);
      const answer = await call("GET", host ? hostPath("stats", host) : "/stats/");
      if (json) return;
      const records = (host ? { [host]: answer } : answer) as Record<string, StatsRecord>;
      print(STATS_HEADER);
      for (const line of statsLines(records)) print(line);
    },
  },
  dump: {
    args: "",
    summary: "print every rule as a JSON rule set, for load",
    minArgs: 0,
    maxArgs: 0,
    async run({ json, call, print }) {
      const rules = (await call("GET", "/hostname/")) as Record<string, unknown>;
      if (json) return;
      print(JSON.stringify(Object.fromEntries(sortedEntries(rules)), null, 2));
    },
  },
  load: loadCommand,
};
