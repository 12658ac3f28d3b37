/** A summary of a Config for the startup log; never includes the token. */
import type { ListenAddress } from "./address.ts";
import type { Config } from "./config.ts";

export function describeConfig(config: Config): string[] {
  const lines = [
    config.configFile === null
      ? "no configuration file: defaults and flags only"
      : `configuration from ${config.configFile}`,
    `listeners: ${join(config.bind)}`,
  ];
  if (config.bindInternal.length > 0) {
    lines.push(`trusted listeners: ${join(config.bindInternal)}`);
  }
  if (config.bindTls.length > 0) lines.push(`TLS listeners: ${join(config.bindTls)}`);
  if (config.store === "etcd") {
    lines.push(`rules in etcd at ${config.etcdEndpoints.join(", ")} under ${config.etcdPrefix}`);
  }
  const token = config.managementToken === null ? "no token" : "token set";
  const insecure = config.insecureManagement ? ", insecure management allowed" : "";
  lines.push(`management API: ${join(config.bindManagement)} (${token}${insecure})`);
  lines.push(`state file ${config.stateFile}`);
  lines.push(`static files from ${config.staticDir}`);
  if (config.accessLog !== null) {
    lines.push(`access log to ${config.accessLog === "-" ? "stderr" : config.accessLog}`);
  }
  if (config.workers > 1) lines.push(`${config.workers} workers`);
  return lines;
}

function join(addresses: ListenAddress[]): string {
  return addresses.length === 0 ? "(none)" : addresses.map((address) => address.text).join(", ");
}
