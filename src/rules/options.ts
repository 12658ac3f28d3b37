/**
 * The options of each action. Values typed on a command line arrive as
 * strings, so numbers and `backends` accept the string forms the original
 * client produced; what is stored is canonical.
 */
import * as v from "valibot";
import { formatAddress } from "../config/address.ts";

/** A number, or a string holding one (as the command line sends it). */
function numeric(message: string) {
  return v.pipe(
    v.union(
      [
        v.number(message),
        v.pipe(
          v.string(message),
          v.trim(),
          v.regex(/^-?\d+(?:\.\d+)?$/, message),
          v.transform(Number),
        ),
      ],
      message,
    ),
    v.finite(message),
  );
}

const Seconds = v.pipe(
  numeric("must be a number of seconds"),
  v.minValue(0, "must not be negative"),
);
const PositiveSeconds = v.pipe(
  numeric("must be a number of seconds"),
  v.gtValue(0, "must be greater than 0"),
);

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

/** A backend with settings of its own, as stored: `address` is canonical `host:port`. */
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
  'a backend is "host:port", "[::1]:port" or [host, port]',
);
/** `"host:port"` or `[host, port]` as a checked pair, or the message that says what is wrong. */
function backendPair(value: unknown): [string, number] | string {
  const pair = typeof value === "string" ? splitHostPort(value) : value;
  if (pair === null) return `"${value}" is not host:port (an IPv6 address as [::1]:port)`;
  const result = v.safeParse(BackendPair, pair);
  return result.success ? result.output : result.issues[0].message;
}

const Weight = v.pipe(
  numeric("weight must be a number"),
  v.integer("weight must be an integer"),
  v.minValue(1, "weight is 1 to 1000"),
  v.maxValue(1000, "weight is 1 to 1000"),
);
const Count = (name: string) =>
  v.pipe(
    numeric(`${name} must be a number`),
    v.integer(`${name} must be an integer`),
    v.minValue(0, `${name} must not be negative`),
    v.maxValue(1_000_000, `${name} is at most 1000000`),
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
      const pair = backendPair(parsed.output.address);
      if (typeof pair === "string") {
        addIssue({ message: `address: ${pair}` });
        return NEVER;
      }
      return { ...parsed.output, address: formatAddress(pair[0], pair[1]) };
    }
    const pair = backendPair(value);
    if (typeof pair === "string") {
      addIssue({ message: pair });
      return NEVER;
    }
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

/** The balancing policies a proxy rule may name (one file each in src/balance/). */
export const POLICY_NAMES = ["random", "round_robin", "least_conn", "first", "hash"] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

const StatusList = v.pipe(
  v.array(
    v.pipe(
      numeric("a status must be a number"),
      v.integer("a status must be an integer"),
      v.minValue(100, "a status is 100 to 599"),
      v.maxValue(599, "a status is 100 to 599"),
    ),
    "statuses must be a list of statuses",
  ),
);

/** An expected check status: one status, or a class such as "2xx". */
const Expect = v.union(
  [
    v.pipe(
      numeric("expect is a status or a class such as 2xx"),
      v.integer("expect is a status or a class such as 2xx"),
      v.minValue(100, "expect is a status from 100 to 599 or a class such as 2xx"),
      v.maxValue(599, "expect is a status from 100 to 599 or a class such as 2xx"),
    ),
    v.pipe(v.string(), v.regex(/^[1-5]xx$/, "expect is a status or a class such as 2xx")),
  ],
  "expect is a status or a class such as 2xx",
);

const Passive = v.strictObject(
  {
    failures: v.optional(v.pipe(Count("failures"), v.minValue(1, "failures must be at least 1"))),
    window: v.optional(PositiveSeconds),
    eject: v.optional(PositiveSeconds),
    statuses: v.optional(StatusList),
  },
  "passive takes failures, window, eject and statuses",
);

export type PassiveOptions = v.InferOutput<typeof Passive>;

/** Health checks: active ones when `path` is given, passive ejection when `passive` is. */
export const Health = v.strictObject(
  {
    path: v.optional(
      v.pipe(
        v.string("path must be a string"),
        v.regex(/^\/[\x21-\x7e]*$/, "path starts with / and holds no white space"),
      ),
    ),
    interval: v.optional(PositiveSeconds),
    timeout: v.optional(PositiveSeconds),
    rise: v.optional(v.pipe(Count("rise"), v.minValue(1, "rise must be at least 1"))),
    fall: v.optional(v.pipe(Count("fall"), v.minValue(1, "fall must be at least 1"))),
    expect: v.optional(Expect),
    host: v.optional(
      v.pipe(
        v.string("host must be a string"),
        v.regex(/^[A-Za-z0-9.:[\]-]{1,261}$/, "host is a hostname, with a port if need be"),
      ),
    ),
    passive: v.optional(Passive),
  },
  "health takes path, interval, timeout, rise, fall, expect, host and passive",
);

export type HealthOptions = v.InferOutput<typeof Health>;

export const ProxyOptions = v.strictObject(
  {
    backends: Backends,
    attempts: v.optional(
      v.pipe(
        numeric("attempts must be a number"),
        v.integer("attempts must be an integer"),
        v.minValue(1, "attempts must be at least 1"),
        v.maxValue(100, "attempts must be at most 100"),
      ),
      1,
    ),
    delay: v.optional(Seconds, 1),
    // Options below are left out of the stored rule when not given: a rule
    // written for the original stays exactly as it was.
    policy: v.optional(v.picklist(POLICY_NAMES, `policy is one of ${POLICY_NAMES.join(", ")}`)),
    hash_key: v.optional(
      v.pipe(
        v.string("hash_key must be a string"),
        v.regex(
          /^(?:client_ip|header:[!#$%&'*+\-.^_`|~0-9A-Za-z]+|cookie:[!#$%&'*+\-.^_`|~0-9A-Za-z]+)$/,
          "hash_key is client_ip, header:<name> or cookie:<name>",
        ),
      ),
    ),
    queue_timeout: v.optional(PositiveSeconds),
    health: v.optional(Health),
    when_all_down: v.optional(v.picklist(["spin", "fail"], "when_all_down is spin or fail")),
    spin_timeout: v.optional(PositiveSeconds),
  },
  "proxy takes backends (required), attempts, delay, policy, hash_key, queue_timeout, health, when_all_down and spin_timeout",
);

/** A plain name: static types become file names, so no path can be smuggled in. */
export const StaticOptions = v.strictObject(
  {
    type: v.pipe(
      v.string("type must be a string"),
      v.regex(/^[A-Za-z0-9_-]{1,64}$/, "type is a plain name of letters, digits, '-' and '_'"),
    ),
  },
  "static takes type (required)",
);

export const RedirectOptions = v.strictObject(
  {
    redirect_to: v.pipe(
      v.string("redirect_to must be a string"),
      v.minLength(1, "redirect_to must not be empty"),
      v.maxLength(2048, "redirect_to is at most 2048 characters"),
      v.regex(/^[\x21-\x7e]+$/, "redirect_to must be printable ASCII without white space"),
    ),
  },
  "redirect takes redirect_to (required)",
);

export const EmptyOptions = v.strictObject(
  {
    code: v.pipe(
      numeric("code must be a number"),
      v.integer("code must be an integer"),
      v.minValue(200, "code must be an HTTP status from 200 to 599"),
      v.maxValue(599, "code must be an HTTP status from 200 to 599"),
    ),
  },
  "empty takes code (required)",
);

export const SpinOptions = v.strictObject(
  {
    timeout: v.optional(PositiveSeconds, 120),
    // Kept for compatibility: spinning requests wake on each rule change, not on a poll.
    check_interval: v.optional(PositiveSeconds, 1),
  },
  "spin takes timeout and check_interval",
);

export const NoOptions = v.strictObject({}, "this action takes no options");
