/**
 * The options of each action. Values typed on a command line arrive as
 * strings, so numbers and `backends` accept the string forms the original
 * client produced; what is stored is canonical.
 */
import * as v from "valibot";
import { type Backend, Backends, type BackendWithSettings } from "./backends.ts";
import { Count, flag, numeric } from "./values.ts";

export { type Backend, Backends, type BackendWithSettings };

/** Any action: a plain-HTTP request is sent to https:// instead (308) and only https runs it. */
const RedirectHttps = v.optional(flag("redirect_https must be true or false"));

/** Any action: "auto" obtains the hostname's certificate from ACME and keeps it renewed. */
const Tls = v.optional(
  v.literal("auto", 'tls is "auto" (a certificate obtained from ACME) or left out'),
);

const Seconds = v.pipe(
  numeric("must be a number of seconds"),
  v.minValue(0, "must not be negative"),
);
const PositiveSeconds = v.pipe(
  numeric("must be a number of seconds"),
  v.gtValue(0, "must be greater than 0"),
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
    // For https:// backends: a PEM file of CAs to trust instead of the system's, or no check at all.
    ca: v.optional(
      v.pipe(
        v.string("ca must be a string: the path of a PEM file"),
        v.minLength(1, "ca must not be empty"),
        v.maxLength(4096, "ca is at most 4096 characters"),
      ),
    ),
    verify: v.optional(flag("verify must be true or false")),
    redirect_https: RedirectHttps,
    tls: Tls,
  },
  "proxy takes backends (required), attempts, delay, policy, hash_key, queue_timeout, health, when_all_down, spin_timeout, ca, verify, redirect_https and tls",
);

/** A plain name: static types become file names, so no path can be smuggled in. */
export const StaticOptions = v.strictObject(
  {
    type: v.pipe(
      v.string("type must be a string"),
      v.regex(/^[A-Za-z0-9_-]{1,64}$/, "type is a plain name of letters, digits, '-' and '_'"),
    ),
    redirect_https: RedirectHttps,
    tls: Tls,
  },
  "static takes type (required), redirect_https and tls",
);

export const RedirectOptions = v.strictObject(
  {
    redirect_to: v.pipe(
      v.string("redirect_to must be a string"),
      v.minLength(1, "redirect_to must not be empty"),
      v.maxLength(2048, "redirect_to is at most 2048 characters"),
      v.regex(/^[\x21-\x7e]+$/, "redirect_to must be printable ASCII without white space"),
    ),
    redirect_https: RedirectHttps,
    tls: Tls,
  },
  "redirect takes redirect_to (required), redirect_https and tls",
);

export const EmptyOptions = v.strictObject(
  {
    code: v.pipe(
      numeric("code must be a number"),
      v.integer("code must be an integer"),
      v.minValue(200, "code must be an HTTP status from 200 to 599"),
      v.maxValue(599, "code must be an HTTP status from 200 to 599"),
    ),
    redirect_https: RedirectHttps,
    tls: Tls,
  },
  "empty takes code (required), redirect_https and tls",
);

export const SpinOptions = v.strictObject(
  {
    timeout: v.optional(PositiveSeconds, 120),
    // Kept for compatibility: spinning requests wake on each rule change, not on a poll.
    check_interval: v.optional(PositiveSeconds, 1),
    redirect_https: RedirectHttps,
    tls: Tls,
  },
  "spin takes timeout, check_interval, redirect_https and tls",
);

export const NoOptions = v.strictObject(
  { redirect_https: RedirectHttps, tls: Tls },
  "this action takes no option but redirect_https and tls",
);
