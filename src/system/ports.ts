/**
 * Workers share each listening port, so a configured port 0 (any free port)
 * must be chosen once, here, before they start: bind it, note the port, let go.
 */
import type { ListenAddress } from "../config/address.ts";
import { formatAddress } from "../config/address.ts";
import type { Config } from "../config/config.ts";

export function resolvePorts(config: Config): Config {
  return {
    ...config,
    bind: config.bind.map(resolve),
    bindInternal: config.bindInternal.map(resolve),
    bindTls: config.bindTls.map(resolve),
  };
}

function resolve(address: ListenAddress): ListenAddress {
  if (address.port !== 0) return address;
  const probe = Bun.listen({ hostname: address.host, port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  const host = address.text.startsWith("*") ? "*" : formatAddress(address.host, port);
  return { host: address.host, port, text: host === "*" ? `*:${port}` : host };
}
