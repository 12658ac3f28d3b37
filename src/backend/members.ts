/** A proxy rule's stored backends as addresses and as members of its balancing group. */
import type { Member } from "../balance/policy.ts";
import { formatAddress } from "../config/address.ts";
import type { Backend } from "../rules/options.ts";
import type { BackendAddress } from "./address.ts";
import type { BackendStates } from "./state.ts";

/** Where a stored backend listens (either stored form). */
export function addressOf(backend: Backend): BackendAddress {
  if (Array.isArray(backend)) {
    const [host, port] = backend;
    return { host, port, key: formatAddress(host, port) };
  }
  // Stored canonical: `host:port`, or `[v6]:port`.
  const key = backend.address;
  const colon = key.lastIndexOf(":");
  const host = key.startsWith("[") ? key.slice(1, colon - 1) : key.slice(0, colon);
  return { host, port: Number(key.slice(colon + 1)), key };
}

export function backendAddresses(backends: readonly Backend[]): BackendAddress[] {
  return backends.map(addressOf);
}

/** A stored backend as its rule's member, sharing the state of its address. */
export function memberOf(backend: Backend, states: BackendStates): Member {
  const address = addressOf(backend);
  const state = states.get(address.key);
  if (Array.isArray(backend)) return { address, weight: 1, backup: false, maxConns: 0, state };
  return {
    address,
    weight: backend.weight,
    backup: backend.backup,
    maxConns: backend.max_conns,
    state,
  };
}
