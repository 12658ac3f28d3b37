/**
 * Every listener binds with SO_REUSEPORT, so that a process taking over can
 * bind beside it. The kernel would then let a second, unrelated server share
 * a port too, so each address is first bound alone, without the option, and
 * let go: an address in use is refused as before. That probe also turns a
 * port 0 into the port every later bind uses.
 *
 * An address the process being taken over holds is not probed (it is in use,
 * by design), and a port 0 there means the port that process got for it.
 */
import type { ListenAddress } from "../config/address.ts";
import { formatAddress } from "../config/address.ts";
import type { Config } from "../config/config.ts";
import { bindRefusal } from "../system/bind-error.ts";
import type { HeldAddress, HeldListeners } from "./protocol.ts";

type Kind = keyof HeldListeners;

/** How each kind of listener is named in errors: its key and flag. */
const KINDS: { kind: Kind; field: keyof Config; key: string; flag: string }[] = [
  { kind: "bind", field: "bind", key: "bind", flag: "--bind" },
  { kind: "internal", field: "bindInternal", key: "bind_internal", flag: "--bind-internal" },
  { kind: "tls", field: "bindTls", key: "bind_tls", flag: "--bind-tls" },
  { kind: "management", field: "bindManagement", key: "bind_management", flag: "--management" },
];

const NO_LISTENERS: HeldListeners = { bind: [], internal: [], tls: [], management: [] };

/** The config with every port fixed; throws ConfigError for an address in use. */
export function claimPorts(config: Config, held: HeldListeners = NO_LISTENERS): Config {
  const claimed: Partial<Config> = {};
  const every = Object.values(held).flat();
  for (const { kind, field, key, flag } of KINDS) {
    const theirs = [...held[kind]];
    const addresses = config[field] as ListenAddress[];
    (claimed as Record<string, ListenAddress[]>)[field] = addresses.map((address) => {
      if (address.port === 0) {
        const at = theirs.findIndex((other) => other.text === address.text);
        if (at >= 0) return withPort(address, theirs.splice(at, 1)[0]!.port);
      } else if (every.some((other) => sameAddress(other, address))) {
        return address;
      }
      return withPort(address, probe(address, kind, key, flag));
    });
  }
  return { ...config, ...claimed };
}

/** What a server tells its successor about its listeners. */
export function heldAddresses(addresses: readonly ListenAddress[], ports: number[]): HeldAddress[] {
  return addresses.map((address, i) => ({
    text: address.text,
    host: address.host,
    port: ports[i] ?? address.port,
  }));
}

function sameAddress(held: HeldAddress, address: ListenAddress): boolean {
  return held.host === address.host && held.port === address.port;
}

function withPort(address: ListenAddress, port: number): ListenAddress {
  if (address.port === port) return address;
  const text = address.text.startsWith("*") ? `*:${port}` : formatAddress(address.host, port);
  return { host: address.host, port, text };
}

/** Binds the address alone and lets go; returns the port it got. */
function probe(address: ListenAddress, kind: Kind, key: string, flag: string): number {
  try {
    const listener = Bun.listen({
      hostname: address.host,
      port: address.port,
      socket: { data() {} },
    });
    const port = listener.port;
    listener.stop(true);
    return port;
  } catch (error) {
    if (kind !== "management") throw bindRefusal(error, address.text, key, flag);
    const where = formatAddress(address.host, address.port);
    throw bindRefusal(error, where, key, flag, " for management");
  }
}
