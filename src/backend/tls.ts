/**
 * Backends written `https://host:port` are reached over TLS. A proxy rule says
 * how their certificates are checked: against the system's CAs (the default),
 * against the CAs of its `ca` PEM file, or not at all (`verify: false`). The
 * file is read when the rule is set (a rule shared by many hostnames reads it
 * once); set the rule again to read an edited file.
 */

import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { log } from "../log.ts";
import { forEachMatching } from "../rules/distinct-rules.ts";
import type { Rule, RuleEntries } from "../rules/schema.ts";
import { pemBlocks } from "../tls/pem.ts";

/** How a rule checks its https backends' certificates. */
export interface TlsVerification {
  /** The CAs to trust, PEM; undefined: the system's. */
  readonly ca: string | undefined;
  readonly verify: boolean;
  /** Tells pools apart: `system`, `ca=<path>` or `unverified`. */
  readonly id: string;
  /** Why no connection can be made (the `ca` file is gone since the rule was set); null. */
  readonly refusal: string | null;
}

/** What `Bun.connect` is given as `tls` for one backend. */
export interface TlsConnectOptions {
  /** SNI and the name checked: the backend's hostname (an IP address is checked as it is). */
  readonly serverName?: string;
  readonly ca?: string;
  readonly rejectUnauthorized: boolean;
}

export interface BackendTls {
  readonly options: TlsConnectOptions;
  /** See TlsVerification.refusal. */
  readonly refusal: string | null;
}

export const SYSTEM_CAS: TlsVerification = {
  ca: undefined,
  verify: true,
  id: "system",
  refusal: null,
};

/** The TLS options of a proxy rule, as stored. */
export interface TlsRuleOptions {
  readonly ca?: string;
  readonly verify?: boolean;
}

const byRule = new WeakMap<TlsRuleOptions, TlsVerification>();

/** The rule's verification; its `ca` file is read once per rule object. */
export function verificationOf(options: TlsRuleOptions): TlsVerification {
  if (options.verify === false) return UNVERIFIED;
  if (options.ca === undefined) return SYSTEM_CAS;
  let verification = byRule.get(options);
  if (verification === undefined) {
    verification = readCa(options.ca);
    byRule.set(options, verification);
  }
  return verification;
}

const UNVERIFIED: TlsVerification = {
  ca: undefined,
  verify: false,
  id: "unverified",
  refusal: null,
};

function readCa(path: string): TlsVerification {
  const id = `ca=${path}`;
  const read = readCaFile(path);
  if (typeof read === "string") {
    const refusal = `the rule's ca ${read}`;
    log.warn(`${refusal}: its https backends cannot be reached until the rule is set again`);
    return { ca: undefined, verify: true, id, refusal };
  }
  return { ca: read.pem, verify: true, id, refusal: null };
}

/** Why the `ca` file cannot be used, naming it; null when it holds certificates that parse. */
export function caProblem(path: string): string | null {
  const read = readCaFile(path);
  return typeof read === "string" ? read : null;
}

function readCaFile(path: string): { pem: string } | string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "does not exist" : (error as Error).message;
    return `file ${path} cannot be read: ${why}`;
  }
  const blocks = pemBlocks(text).filter((block) => block.label === "CERTIFICATE");
  if (blocks.length === 0) return `file ${path} holds no PEM certificate`;
  for (const [index, block] of blocks.entries()) {
    try {
      new X509Certificate(block.text);
    } catch (error) {
      return `file ${path}: certificate ${index + 1} does not parse (${(error as Error).message})`;
    }
  }
  return { pem: blocks.map((block) => block.text).join("\n") };
}

/** How to reach `host` over TLS under `verification`. */
export function backendTls(host: string, verification: TlsVerification): BackendTls {
  const options: TlsConnectOptions = {
    // SNI carries names only; Bun checks an IP address against the certificate's own.
    ...(isIP(host) === 0 ? { serverName: host } : {}),
    ...(verification.ca !== undefined ? { ca: verification.ca } : {}),
    rejectUnauthorized: verification.verify,
  };
  return { options, refusal: verification.refusal };
}

/** Why a handshake failed, for the log and the connect failure. */
export function handshakeFailure(error: Error | null | undefined): string {
  if (error == null) return "the TLS handshake failed";
  const code = (error as NodeJS.ErrnoException).code ?? "";
  // Errno-like codes (EPROTO, ECONNRESET) are the connection's; the others name a certificate check.
  if (code === "" || /^E[A-Z]+$/.test(code)) return `TLS handshake failed: ${error.message}`;
  return `TLS certificate refused: ${error.message} (${code})`;
}

/** Whether a rule turns off the certificate check of its https backends. */
export function isUnverified(rule: Rule): boolean {
  return rule.action === "proxy" && (rule.options as TlsRuleOptions).verify === false;
}

/**
 * Says loudly, once for each rule that becomes live (stored at start-up, set,
 * or in a replaced set), that it has `verify: false`: its backends'
 * certificates are not checked. Hostnames sharing one rule share a line. Each
 * rule object is looked at once, so a million hostnames on a few rules cost
 * one pass over the values, and the keys only when one is unverified.
 */
export function warnUnverified(rules: RuleEntries): void {
  const keysByRule = new Map<Rule, string[]>();
  forEachMatching(rules, isUnverified, (key, rule) => {
    const keys = keysByRule.get(rule);
    if (keys === undefined) keysByRule.set(rule, [key]);
    else keys.push(key);
  });
  for (const keys of keysByRule.values()) {
    const more = keys.length > 1 ? ` (and ${keys.length - 1} more)` : "";
    log.warn(
      `rule ${keys[0]}${more} has verify: false: the certificates of its https backends are NOT checked, anyone on the way can pose as them`,
    );
  }
}
