/**
 * Listen addresses as written in mantrid.conf and on the command line:
 * `1.2.3.4:80`, `[::1]:80`, `localhost:80` or `*:80` for every address.
 */
import { isIPv4, isIPv6 } from "node:net";

export interface ListenAddress {
  /** What to bind: an IP address without brackets, a host name, or `::` for every address. */
  host: string;
  /** 0 lets the system choose a free port. */
  port: number;
  /** Canonical form for logs and messages: `*:80`, `[::1]:80`, `127.0.0.1:80`. */
  text: string;
}

/** On Linux, `::` accepts IPv4 connections too (IPV6_V6ONLY is off by default). */
const EVERY_ADDRESS = "::";

const FORMS = "expected host:port, [ipv6]:port or *:port";
const HOST_NAME_RE =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const DOTTED_RE = /^[0-9.]+$/;

export function parseAddress(text: string): ListenAddress {
  const input = text.trim();
  const quoted = JSON.stringify(input);
  const colon = input.lastIndexOf(":");
  if (colon < 0) throw new Error(`${quoted} is not an address: ${FORMS}`);
  const rawHost = input.slice(0, colon);
  const port = parsePort(input.slice(colon + 1), quoted);

  if (rawHost === "*") return { host: EVERY_ADDRESS, port, text: `*:${port}` };
  const host = parseHost(rawHost, quoted);
  return { host, port, text: formatAddress(host, port) };
}

function parsePort(text: string, quoted: string): number {
  if (text === "") throw new Error(`${quoted} has no port: ${FORMS}`);
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new Error(`${quoted} has port "${text}": a port is a number from 0 to 65535`);
  }
  return Number(text);
}

function parseHost(raw: string, quoted: string): string {
  if (raw === "") throw new Error(`${quoted} has no host: ${FORMS} (*:port for every address)`);
  if (raw.startsWith("[") && raw.endsWith("]")) {
    const inner = raw.slice(1, -1);
    if (!isIPv6(inner)) throw new Error(`${quoted}: "${inner}" is not an IPv6 address`);
    return canonicalIPv6(inner);
  }
  if (raw.includes("://")) {
    throw new Error(`${quoted} is not an address: write host:port without a scheme`);
  }
  if (raw.includes(":")) {
    throw new Error(
      `${quoted} is not an address: write IPv6 addresses in brackets, as in [::1]:80`,
    );
  }
  if (DOTTED_RE.test(raw)) {
    if (!isIPv4(raw)) throw new Error(`${quoted}: "${raw}" is not an IPv4 address`);
    return raw;
  }
  const name = raw.toLowerCase().replace(/\.$/, "");
  if (!HOST_NAME_RE.test(name)) {
    throw new Error(`${quoted}: "${raw}" is not an IP address or host name`);
  }
  return name;
}

/** The shortest lower-case spelling, so `0:0::1` and `::1` compare equal. */
function canonicalIPv6(address: string): string {
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    // Zone ids (fe80::1%eth0) are valid to bind but not in URLs.
    return address.toLowerCase();
  }
}

export function formatAddress(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** True for 127.0.0.0/8, ::1 (also IPv4-mapped loopback) and localhost. */
export function isLoopback(host: string): boolean {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  const lower = bare.toLowerCase();
  if (lower === "localhost" || lower === "localhost.") return true;
  if (isIPv4(bare)) return bare.startsWith("127.");
  if (!isIPv6(bare)) return false;
  const canonical = canonicalIPv6(bare);
  return canonical === "::1" || /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(canonical);
}
