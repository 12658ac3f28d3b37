/** Hostnames as rules name them: validated, and in the one form they are stored and looked up in. */
import * as v from "valibot";

/** A DNS label: letters, digits and `-`, not at either end (its length is checked on its own). */
const LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?";
const LABEL_MAX = 63;
/** The same with the length in it: one test for the common, valid name. */
const VALID_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
const HOSTNAME_RE = new RegExp(`^(?:https?://)?(?:${LABEL}\\.)*${LABEL}\\.?$`);

/** Lower-case, without a trailing dot: the form rules are stored and looked up in. */
export function canonicalHostname(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}

/** 253 characters, plus room for an `https://` prefix. */
const HOSTNAME_MAX = 261;

/** The first label longer than DNS allows, if any. */
function overlongLabel(name: string): string | undefined {
  return name
    .replace(/^https?:\/\//, "")
    .split(".")
    .find((label) => label.length > LABEL_MAX);
}

/** A rule's key: a hostname, optionally prefixed by `http://` or `https://`. */
export const Hostname = v.pipe(
  v.string("a hostname must be a string"),
  v.maxLength(HOSTNAME_MAX, "a hostname is at most 253 characters"),
  v.rawCheck(({ dataset, addIssue }) => {
    const label = dataset.typed ? overlongLabel(dataset.value) : undefined;
    if (label === undefined) return;
    addIssue({
      message: `each label of a hostname is at most ${LABEL_MAX} characters; "${label.slice(0, 20)}…" has ${label.length}`,
    });
  }),
  v.regex(
    HOSTNAME_RE,
    "a hostname is dot-separated labels of letters, digits and '-', optionally prefixed by http:// or https://",
  ),
  v.transform(canonicalHostname),
);

const VALID_RE = new RegExp(`^(?:https?://)?(?:${VALID_LABEL}\\.)*${VALID_LABEL}\\.?$`);

/** The canonical form of a valid hostname, in one regex test; null: check it with `Hostname`. */
export function quickHostname(name: string): string | null {
  if (isCanonicalHostname(name)) return name;
  return name.length <= HOSTNAME_MAX && VALID_RE.test(name) ? canonicalHostname(name) : null;
}

const DOT = 0x2e;
const DASH = 0x2d;

/**
 * True for a valid name already in its canonical form: labels of lower-case
 * letters, digits and inner `-`, no protocol, no trailing dot. One pass over
 * the name, as a million of them arrive in one rule set; false says nothing.
 */
export function isCanonicalHostname(name: string): boolean {
  const length = name.length;
  if (length > HOSTNAME_MAX) return false;
  let labelAt = 0;
  for (let i = 0; i <= length; i++) {
    const code = i === length ? DOT : name.charCodeAt(i);
    if (code === DOT) {
      const label = i - labelAt;
      if (label === 0 || label > LABEL_MAX) return false;
      if (name.charCodeAt(labelAt) === DASH || name.charCodeAt(i - 1) === DASH) return false;
      labelAt = i + 1;
    } else if (
      !((code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39) || code === DASH)
    ) {
      return false;
    }
  }
  return true;
}
