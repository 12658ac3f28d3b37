/** The client's flags, declared once: `client` and every subcommand take them, before or after the command. */
import type { ArgsDef } from "citty";
import { DEFAULT_URL, WAIT_SECONDS } from "./connection.ts";

export const CLIENT_FLAGS = {
  url: {
    type: "string",
    valueHint: "url",
    description: `Management API (default: $MANTRID_URL, else ${DEFAULT_URL})`,
  },
  token: {
    type: "string",
    valueHint: "token",
    description: "Bearer token for the management API (default: $MANTRID_TOKEN)",
  },
  json: { type: "boolean", description: "Print the API's JSON answer as it is" },
  wait: {
    type: "boolean",
    description: `First wait up to ${WAIT_SECONDS} s for the management API to answer`,
  },
  help: { type: "boolean", alias: "h", description: "Show this help" },
} as const satisfies ArgsDef;
