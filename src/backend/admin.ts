/**
 * An operator's say over a backend address: drain it (no new requests, those
 * in flight finish), disable it, or enable it again. What the API takes, what
 * the state file keeps (only addresses that are not enabled), and the checks
 * both share.
 */
import * as v from "valibot";
import { formatAddress } from "../config/address.ts";
import { Backends } from "../rules/options.ts";
import { type Parsed, type Problem, problems } from "../rules/schema.ts";
import type { AdminState } from "./state.ts";

/** What is stored for an address; an enabled one is simply not listed. */
export type StoredAdmin = Exclude<AdminState, "enabled">;

const STORED: readonly StoredAdmin[] = ["draining", "disabled"];

/** The body of `PUT /backend/<host:port>/`. */
const AdminRequest = v.strictObject(
  {
    state: v.picklist(["drain", "disable", "enable"], 'state is "drain", "disable" or "enable"'),
  },
  'the body is {"state": "drain" | "disable" | "enable"}',
);

const ADMIN_OF = { drain: "draining", disable: "disabled", enable: "enabled" } as const;

/** The admin state a `PUT /backend/` body asks for, or the problems that name its bad field. */
export function parseAdminRequest(body: unknown): Parsed<AdminState> {
  const result = v.safeParse(AdminRequest, body);
  return result.success
    ? { ok: true, value: ADMIN_OF[result.output.state] }
    : { ok: false, problems: problems(result.issues) };
}

/**
 * `host:port` (IPv6 as `[::1]:8000`) as the canonical key that rules name, with
 * the checks a rule's backend gets; the problems are at `address`.
 */
export function parseBackendKey(text: string): Parsed<string> {
  const parsed = v.safeParse(Backends, [text]);
  if (!parsed.success) {
    const message = parsed.issues[0].message;
    return { ok: false, problems: [{ path: ["address"], message }] };
  }
  const backend = parsed.output[0]!;
  if (!Array.isArray(backend)) return { ok: true, value: backend.address };
  return { ok: true, value: formatAddress(backend[0], backend[1]) };
}

/** The `"backends"` member of a snapshot: `{"host:port": "draining" | "disabled"}`. */
export function parseStoredBackends(value: unknown): Parsed<Record<string, StoredAdmin>> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, problems: [{ path: [], message: "must be an object" }] };
  }
  const found: Problem[] = [];
  const stored: Record<string, StoredAdmin> = {};
  for (const [text, admin] of Object.entries(value)) {
    const key = parseBackendKey(text);
    if (!key.ok) found.push({ path: [text], message: key.problems[0]!.message });
    else if (!isStoredAdmin(admin)) {
      found.push({ path: [text], message: 'must be "draining" or "disabled"' });
    } else stored[key.value] = admin;
  }
  return found.length > 0 ? { ok: false, problems: found } : { ok: true, value: stored };
}

export function isStoredAdmin(value: unknown): value is StoredAdmin {
  return STORED.includes(value as StoredAdmin);
}

export function isAdminState(value: unknown): value is AdminState {
  return value === "enabled" || isStoredAdmin(value);
}
