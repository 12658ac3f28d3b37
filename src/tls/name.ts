/**
 * The names certificates are kept under: a hostname, or a wildcard
 * `*.example.com` that stands for one label, canonical lower-case, as SNI
 * looks them up. The hostname rules are the rules' own, without their
 * `http://` prefixes.
 */
import * as v from "valibot";
import { Hostname } from "../rules/hostname.ts";
import { type Parsed, problems } from "../rules/schema.ts";

const WILDCARD = "*.";

export const CertificateName = v.pipe(
  v.string("a certificate name must be a string"),
  v.check(
    (name) => !/^[a-z]+:\/\//i.test(name),
    "a certificate name is a hostname or *.example.com, without a protocol",
  ),
  v.check(
    (name) => !name.slice(name.startsWith(WILDCARD) ? WILDCARD.length : 0).includes("*"),
    "a certificate name may hold * only as its whole first label, as in *.example.com",
  ),
  v.transform((name) =>
    name.startsWith(WILDCARD)
      ? { wildcard: true, rest: name.slice(2) }
      : { wildcard: false, rest: name },
  ),
  v.object({ wildcard: v.boolean(), rest: Hostname }),
  v.transform(({ wildcard, rest }) => (wildcard ? WILDCARD + rest : rest)),
);

export function parseCertificateName(input: unknown): Parsed<string> {
  const result = v.safeParse(CertificateName, input);
  if (result.success) return { ok: true, value: result.output };
  // The object step is ours, not the caller's: its field is no place to point at.
  // And certificate names take no protocol, which the rules' wording offers.
  const found = problems(result.issues).map((p) => ({
    path: [],
    message: p.message.replace(/, optionally prefixed by http:\/\/ or https:\/\//, ""),
  }));
  return { ok: false, problems: found };
}

/** Whether a leaf's DNS name serves `name`: the same, or a wildcard one label up. */
export function covers(dnsName: string, name: string): boolean {
  const san = dnsName.toLowerCase();
  if (san === name) return true;
  // A wildcard name needs a wildcard SAN; a hostname may be served by one.
  if (!san.startsWith(WILDCARD) || name.startsWith(WILDCARD)) return false;
  const dot = name.indexOf(".");
  return dot > 0 && name.slice(dot + 1) === san.slice(WILDCARD.length);
}

/**
 * The file name a certificate name is kept under: `*` is no character to put in
 * a file name, so a wildcard is spelled `_wildcard.example.com` (no hostname
 * holds `_`).
 */
export function fileStem(name: string): string {
  return name.startsWith(WILDCARD) ? `_wildcard.${name.slice(WILDCARD.length)}` : name;
}

/** The certificate name a file stem stands for; literal `*.example.com` is read too. */
export function nameOfStem(stem: string): string {
  return stem.startsWith("_wildcard.") ? WILDCARD + stem.slice("_wildcard.".length) : stem;
}
