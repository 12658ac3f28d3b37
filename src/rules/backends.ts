/**
 * A proxy rule's backends: `host:port`, `[::1]:port`, `[host, port]` (the
 * original form), an object with settings of its own, and `https://host:port`
 * for one reached over TLS. What is stored is canonical.
 */
import * as v from "valibot";
import { formatAddress } from "../config/address.ts";
import { Count, numeric } from "./values.ts";

const BACKEND_HOST_RE =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/;
const BackendHost = v.pipe(
  v.string("a backend host must be a string"),
  v.regex(BACKEND_HOST_RE, "a backend host is a hostname, an IPv4 or an IPv6 address"),
);
const Port = v.pipe(
  numeric("a port must be a number"),
  v.integer("a port must be an integer"),
  v.minValue(1, "a port is 1 to 65535"),
  v.maxValue(65535, "a port is 1 to 65535"),
);

/**
 * A backend with settings of its own, as stored: `address` is canonical
 * `host:port`, or `https://host:port` for one reached over TLS.
 */
export interface BackendWithSettings {
  address: string;
  /** Share of requests relative to the others (1 to 1000). */
  weight: number;
  /** Used only while no primary backend is usable. */
  backup: boolean;
  /** Requests in flight at most (0: no limit); more wait up to `queue_timeout`. */
  max_conns: number;
}

/** A backend as stored: `[host, port]` (the original form), or with settings. */
export type Backend = [host: string, port: number] | BackendWithSettings;

/** `"host:port"` or `"[::1]:8000"` into its parts; the port stays a string for `Port`. */
function splitHostPort(text: string): [string, string] | null {
  const trimmed = text.trim();
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(trimmed);
  if (bracketed) return [bracketed[1]!, bracketed[2]!];
  const colon = trimmed.lastIndexOf(":");
  if (colon <= 0 || trimmed.indexOf(":") !== colon) return null;
  return [trimmed.slice(0, colon), trimmed.slice(colon + 1)];
}

const BackendPair = v.strictTuple(
  [BackendHost, Port],
  'a backend is "host:port", "https://host:port", "[::1]:port" or [host, port]',
);
/** `"host:port"` or `[host, port]` as a checked pair, or the message that says what is wrong. */
function backendPair(value: unknown): [string, number] | string {
  const pair = typeof value === "string" ? splitHostPort(value) : value;
  if (pair === null) return `"${value}" is not host:port (an IPv6 address as [::1]:port)`;
  const result = v.safeParse(BackendPair, pair);
  return result.success ? result.output : result.issues[0].message;
}

const SCHEME_RE = /^(https?):\/\//i;

/**
 * A backend written with a scheme: `https://` is reached over TLS (port 443
 * when none is given), `http://` is the same as none (port 80 when none is given).
 */
function splitScheme(text: string): { tls: boolean; rest: string } {
  const scheme = SCHEME_RE.exec(text.trim());
  if (scheme === null) return { tls: false, rest: text };
  const tls = scheme[1]!.toLowerCase() === "https";
  let rest = text.trim().slice(scheme[0].length);
  if (rest.endsWith("/")) rest = rest.slice(0, -1);
  const hasPort = rest.startsWith("[") ? /\]:\d+$/.test(rest) : rest.includes(":");
  return { tls, rest: hasPort ? rest : `${rest}:${tls ? 443 : 80}` };
}

/** The canonical address of a backend reached over TLS. */
function tlsAddress(host: string, port: number): string {
  return `https://${formatAddress(host, port)}`;
}

const Weight = v.pipe(
  numeric("weight must be a number"),
  v.integer("weight must be an integer"),
  v.minValue(1, "weight is 1 to 1000"),
  v.maxValue(1000, "weight is 1 to 1000"),
);
const BackendObject = v.strictObject(
  {
    address: v.string('address must be a string, "host:port"'),
    weight: v.optional(Weight, 1),
    backup: v.optional(v.boolean("backup must be true or false"), false),
    max_conns: v.optional(Count("max_conns"), 0),
  },
  "a backend object takes address (required), weight, backup and max_conns",
);

/** One backend in any accepted form, with a message that says what is wrong with it. */
const Backend = v.pipe(
  v.unknown(),
  v.rawTransform<unknown, Backend>(({ dataset, addIssue, NEVER }) => {
    const value = dataset.value;
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      const parsed = v.safeParse(BackendObject, value);
      if (!parsed.success) {
        addIssue({ message: parsed.issues[0].message });
        return NEVER;
      }
      const { tls, rest } = splitScheme(parsed.output.address);
      const pair = backendPair(rest);
      if (typeof pair === "string") {
        addIssue({ message: `address: ${pair}` });
        return NEVER;
      }
      const address = (tls ? tlsAddress : formatAddress)(pair[0], pair[1]);
      return { ...parsed.output, address };
    }
    const { tls, rest } =
      typeof value === "string" ? splitScheme(value) : { tls: false, rest: value };
    const pair = backendPair(rest);
    if (typeof pair === "string") {
      addIssue({ message: pair });
      return NEVER;
    }
    // The original's pair has no room for a scheme: a TLS backend is stored as an object.
    if (tls)
      return { address: tlsAddress(pair[0], pair[1]), weight: 1, backup: false, max_conns: 0 };
    return pair;
  }),
);

/** A list of backends, or one string of comma-separated `host:port` (the client's `backends=`). */
export const Backends = v.pipe(
  v.union(
    [
      v.pipe(
        v.string(),
        v.transform((text) => text.split(",").filter((part) => part.trim() !== "")),
      ),
      v.array(v.unknown()),
    ],
    "backends must be a list or a comma-separated string",
  ),
  v.array(Backend),
  v.minLength(1, "backends must name at least one backend"),
);
