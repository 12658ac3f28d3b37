/** A proxy rule's stored backends as addresses and as members of its balancing group. */
import type { Member } from "../balance/policy.ts";
import { formatAddress } from "../config/address.ts";
import type { Backend } from "../rules/options.ts";
import type { BackendAddress } from "./address.ts";
import type { BackendStates } from "./state.ts";
import { backendTls, SYSTEM_CAS, type TlsVerification } from "./tls.ts";

const TLS_SCHEME = "https://";

/**
 * Where a stored backend listens (either stored form); an `https://` one is
 * reached over TLS, its certificate checked as `verification` says.
 */
export function addressOf(backend: Backend, verification = SYSTEM_CAS): BackendAddress {
  if (Array.isArray(backend)) {
    const [host, port] = backend;
    const key = formatAddress(host, port);
    return { host, port, key, tls: null, poolKey: key };
  }
  // Stored canonical: `host:port`, `[v6]:port`, or either after `https://`.
  const key = backend.address;
  const tls = key.startsWith(TLS_SCHEME);
  const hostPort = tls ? key.slice(TLS_SCHEME.length) : key;
  const colon = hostPort.lastIndexOf(":");
  const host = hostPort.startsWith("[") ? hostPort.slice(1, colon - 1) : hostPort.slice(0, colon);
  const port = Number(hostPort.slice(colon + 1));
  if (!tls) return { host, port, key, tls: null, poolKey: key };
  return {
    host,
    port,
    key,
    tls: backendTls(host, verification),
    poolKey: `${key} ${verification.id}`,
  };
}

export function backendAddresses(
  backends: readonly Backend[],
  verification?: TlsVerification,
): BackendAddress[] {
  return backends.map((backend) => addressOf(backend, verification));
}

/** A stored backend as its rule's member, sharing the state of its address. */
export function memberOf(
  backend: Backend,
  states: BackendStates,
  verification?: TlsVerification,
): Member {
  const address = addressOf(backend, verification);
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
