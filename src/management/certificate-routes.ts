/**
 * `/certificate/` (every serving certificate, without keys) and
 * `/certificate/<name>` (one; `PUT` gives the API's own, `DELETE` takes it
 * back). A name is a hostname or `*.example.com`, the `*` as is or as `%2A`.
 * A certificate is checked whole and stored durably before the answer; a
 * refused one changes nothing. No answer and no log line holds a key.
 */
import type { Context } from "hono";
import * as v from "valibot";
import { log } from "../log.ts";
import { problems } from "../rules/schema.ts";
import { summarize } from "../tls/certificate.ts";
import { parseCertificateName } from "../tls/name.ts";
import { CertificateError, parseCertificate } from "../tls/parse.ts";
import type { CertificateSources } from "../tls/sources.ts";
import { readJson } from "./body.ts";
import { invalid, jsonError } from "./errors.ts";
import { byMethod } from "./methods.ts";
import { pathRest } from "./paths.ts";
import { clientOf } from "./who.ts";

/** What the routes use of the certificate sources. */
export type CertificateDeps = Pick<CertificateSources, "catalog" | "kept"> & {
  /** Resolves once every change so far serves in every process (with workers). */
  settled?: () => Promise<void>;
};

/** Far above any real chain (a few KiB), far below what would hurt to parse. */
const PEM_MAX = 1024 * 1024;

const Pem = (field: string, what: string) =>
  v.pipe(
    v.string(`${field} must be a string: ${what}`),
    v.maxLength(PEM_MAX, `${field} is at most ${PEM_MAX} characters`),
  );

const SHAPE = 'a certificate is a JSON object {"cert": "<PEM chain>", "key": "<PEM key>"}';

/** `PUT /certificate/<name>`'s body. */
export const CertificateBody = v.strictObject(
  {
    cert: Pem("cert", "the PEM chain, leaf first"),
    key: Pem("key", "the PEM private key of the leaf"),
  },
  (issue) => {
    const field = issue.path?.[0]?.key;
    if (issue.expected === "never") return `${SHAPE}, with no other field`;
    if (field !== undefined && issue.received === "undefined")
      return `${String(field)} is missing; ${SHAPE}`;
    return SHAPE;
  },
);

export function certificateHandler(deps: CertificateDeps) {
  const { catalog, kept } = deps;
  // The answer waits until the next handshake, in whichever process, sees the change.
  const settled = async () => deps.settled?.();

  const all = byMethod({
    GET: (c) => c.json(catalog.all().map(summarize)),
  });

  const one = byMethod<[string]>({
    GET: (c, name) => {
      const serving = catalog.serving(name);
      if (serving !== null) return c.json(summarize(serving));
      // SNI would serve it from the wildcard one label up: say so rather than a bare no.
      const wildcard = wildcardOver(name);
      const also =
        wildcard !== null && catalog.serving(wildcard) !== null ? `; ${wildcard} covers it` : "";
      return jsonError(c, 404, `no certificate is kept for ${name}${also}`);
    },
    PUT: async (c, name) => {
      const body = await readJson(c);
      if (!body.ok) return body.response;
      // valibot takes an array for an object (of index keys).
      if (Array.isArray(body.value))
        return invalid(c, "certificate", [{ path: [], message: SHAPE }]);
      const parsed = v.safeParse(CertificateBody, body.value);
      if (!parsed.success) return invalid(c, "certificate", problems(parsed.issues));
      let certificate: ReturnType<typeof parseCertificate>;
      try {
        certificate = parseCertificate(
          name,
          parsed.output.cert,
          parsed.output.key,
          "api",
          Date.now(),
        );
      } catch (error) {
        if (!(error instanceof CertificateError)) throw error;
        return invalid(c, "certificate", [{ path: [error.field], message: error.message }]);
      }
      try {
        await kept.put(certificate);
      } catch (error) {
        return saveFailed(c, error);
      }
      await settled();
      const expiry = new Date(certificate.notAfter).toISOString();
      log.info(`certificate set ${name}: api, expires ${expiry} (by ${clientOf(c)})`);
      return c.json(summarize(certificate));
    },
    DELETE: async (c, name) => {
      let removed: Awaited<ReturnType<typeof kept.remove>>;
      try {
        removed = await kept.remove(name, "api");
      } catch (error) {
        return saveFailed(c, error);
      }
      if (removed === null) return noApiCertificate(c, name, catalog.serving(name)?.source);
      await settled();
      const now = catalog.serving(name);
      const next = now === null ? "" : `; ${now.source} serves it now`;
      const expiry = new Date(removed.notAfter).toISOString();
      log.info(`certificate deleted ${name}: api, expires ${expiry}${next} (by ${clientOf(c)})`);
      return c.json({ ok: true, serving: now === null ? null : summarize(now) });
    },
  });

  return (c: Context): Response | Promise<Response> => {
    const rest = pathRest(c, "/certificate");
    if (rest === null) return all(c);
    let text: string;
    try {
      text = decodeURIComponent(rest);
    } catch {
      const message = "the name is not valid percent-encoding";
      return invalid(c, "name", [{ path: ["name"], message }], `${message}: ${rest}`);
    }
    const name = parseCertificateName(text);
    if (!name.ok) {
      const found = name.problems.map((p) => ({ ...p, path: ["name"] }));
      return invalid(
        c,
        "name",
        found,
        `invalid name ${JSON.stringify(text)}: ${found[0]!.message}`,
      );
    }
    return one(c, name.value);
  };
}

/** `*.example.com` for `www.example.com`; null for a wildcard or a single label. */
function wildcardOver(name: string): string | null {
  const dot = name.indexOf(".");
  return name.startsWith("*.") || dot < 0 ? null : `*.${name.slice(dot + 1)}`;
}

function noApiCertificate(c: Context, name: string, servedBy?: string): Response {
  const serving = servedBy === undefined ? "" : ` (the one from ${servedBy} serves it)`;
  return jsonError(c, 404, `no certificate was given for ${name} through the API${serving}`);
}

function saveFailed(c: Context, error: unknown): Response {
  const reason = error instanceof Error ? error.message : String(error);
  return jsonError(c, 500, `could not save the certificate, nothing changed: ${reason}`);
}
