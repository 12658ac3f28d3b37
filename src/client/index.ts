export { clientCommand } from "./command.ts";
export { type ClientIO, runClient } from "./run.ts";
export { usage as clientUsage } from "./usage.ts";
