export { clientCommand, runClient } from "./command.ts";
export type { ClientIO } from "./session.ts";
