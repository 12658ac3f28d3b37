/**
 * The options of each action. Values typed on a command line arrive as
 * strings, so numbers and `backends` accept the string forms the original
 * client produced; what is stored is canonical.
 */
import * as v from "valibot";

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

export type Backend = [host: string, port: number];

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
/** One backend in any accepted form, with a message that says what is wrong with it. */
const Backend = v.pipe(
  v.unknown(),
  v.rawTransform<unknown, Backend>(({ dataset, addIssue, NEVER }) => {
    const value = dataset.value;
    const pair = typeof value === "string" ? splitHostPort(value) : value;
    if (pair === null) {
      addIssue({ message: `"${value}" is not host:port (an IPv6 address as [::1]:port)` });
      return NEVER;
    }
    const result = v.safeParse(BackendPair, pair);
    if (!result.success) {
      addIssue({ message: result.issues[0].message });
      return NEVER;
    }
    return result.output;
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
  },
  "proxy takes backends (required), attempts and delay",
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
