/** `mantrid client`: citty is only the outer shell; the client reads its own argv (see argv.ts). */
import { defineCommand } from "citty";
import { runClient } from "./run.ts";

export const clientCommand = defineCommand({
  meta: {
    name: "client",
    description: "Inspect and change a running mantrid's rules through its management API",
  },
  async run({ rawArgs }) {
    process.exitCode = await runClient(rawArgs);
  },
});
