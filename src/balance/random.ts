/** `random`: any backend, each as likely as the others (the original Mantrid's choice). */
import type { BackendAddress } from "../backend/address.ts";
import type { Policy } from "./policy.ts";

export const randomPolicy: Policy = {
  name: "random",
  pick(backends: readonly BackendAddress[]): BackendAddress {
    return backends[backends.length === 1 ? 0 : Math.floor(Math.random() * backends.length)]!;
  },
};
