/**
 * `cert list|get|set|delete`: the certificates TLS serves, through
 * `/certificate/`. `set` sends a chain and key from files (one `.pem` holding
 * both, or the two apart); the server checks them and says what is wrong.
 */
import { rest } from "../command-line.ts";
import { summarise } from "../management/summary.ts";
import type { CertificateSummary } from "../tls/certificate.ts";
import { parseCertificateName } from "../tls/name.ts";
import { splitPem, unendedBlocks } from "../tls/pem.ts";
import { type CommandContext, defineClientCommand } from "./context.ts";
import { Failure, UsageError } from "./errors.ts";
import { table } from "./format.ts";

const COLUMNS = ["NAME", "SOURCE", "EXPIRES", "ISSUER", "NAMES"];
const WIDTHS = [35, 6, 20, 25, 0];

/** Each operation's arguments, for the usage line and the count check. */
const OPERATIONS: Record<string, { words: string; min: number; max: number; about: string }> = {
  list: { words: "", min: 0, max: 0, about: "every serving certificate" },
  get: { words: "<name>", min: 1, max: 1, about: "the one serving a name" },
  set: {
    words: "<name> <cert-file> [key-file]",
    min: 2,
    max: 3,
    about: "give one through the API: a .pem with the chain and the key, or the two apart",
  },
  delete: {
    words: "<name>",
    min: 1,
    max: 1,
    about: "take the API's back; cert_dir's or ACME's, if any, serves then",
  },
};

export const CERT_HELP = [
  "OPERATIONS",
  "",
  ...Object.entries(OPERATIONS).map(([name, op]) =>
    `  cert ${`${name} ${op.words}`.padEnd(38)}${op.about}`.trimEnd(),
  ),
  "",
  "A name is a hostname or *.example.com (quote the * for the shell).",
].join("\n");

export const certCommand = defineClientCommand({
  description: "Show, give or take back the certificates TLS serves",
  args: {
    operation: {
      type: "positional",
      required: true,
      valueHint: "list|get|set|delete",
      description: "What to do (see OPERATIONS)",
    },
    arguments: rest({ type: "positional", description: "The operation's own" }),
  },
  epilogue: CERT_HELP,
  async run(args, context) {
    // citty's `_` holds every positional, the operation too.
    const [operation, ...words] = args._ as string[];
    const op = Object.hasOwn(OPERATIONS, operation!) ? OPERATIONS[operation!] : undefined;
    if (op === undefined) {
      throw new UsageError(`unknown cert operation "${operation}": use list, get, set or delete`);
    }
    if (words.length < op.min || words.length > op.max) {
      throw new UsageError(`cert ${operation} takes ${op.words || "no arguments"}`);
    }
    if (operation === "list") return list(context);
    const name = nameArg(words[0]!);
    if (operation === "get") return get(context, name);
    if (operation === "delete") return remove(context, name);
    return set(context, name, words[1]!, words[2]);
  },
});

async function list({ json, call, print }: CommandContext): Promise<void> {
  const all = (await call("GET", "/certificate/")) as CertificateSummary[];
  if (!json) for (const line of certificateTable(all)) print(line);
}

async function get({ json, call, print }: CommandContext, name: string): Promise<void> {
  const one = (await call("GET", certificatePath(name))) as CertificateSummary;
  if (!json) for (const line of certificateTable([one])) print(line);
}

async function set(
  { json, call, print, readInput }: CommandContext,
  name: string,
  certFile: string,
  keyFile: string | undefined,
): Promise<void> {
  let body: { cert: string; key: string };
  if (keyFile === undefined) {
    const text = await readInput(certFile);
    if (unendedBlocks(text) > 0) throw new Failure(`${certFile} has a PEM block with no END line`);
    body = splitPem(text);
    if (body.key === "") {
      throw new Failure(`${certFile} holds no private key: give the key file after it`);
    }
  } else {
    if (certFile === "-" && keyFile === "-") throw new UsageError("only one of the files can be -");
    body = { cert: await readInput(certFile), key: await readInput(keyFile) };
  }
  const summary = (await call("PUT", certificatePath(name), body)) as CertificateSummary;
  if (!json)
    print(`set ${name}: api, expires ${shortTime(summary.not_after)}, by ${summary.issuer}`);
}

async function remove({ json, call, print }: CommandContext, name: string): Promise<void> {
  const answer = (await call("DELETE", certificatePath(name))) as {
    serving: CertificateSummary | null;
  };
  if (json) return;
  const now = answer.serving;
  print(`deleted ${name}${now === null ? "" : `; ${now.source}'s certificate serves it now`}`);
}

export function certificateTable(summaries: CertificateSummary[]): string[] {
  const rows = [...summaries]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((one) => [
      one.name,
      one.source,
      shortTime(one.not_after),
      one.issuer,
      one.names.join(","),
    ]);
  return table(COLUMNS, rows, WIDTHS).map((line) => line.trimEnd());
}

/** `2027-11-29T09:16:38Z`: whole seconds are all a certificate holds. */
function shortTime(iso: string): string {
  return iso.replace(/\.000Z$/, "Z");
}

/** The canonical name, checked here so a typo fails before anything is sent. */
function nameArg(text: string): string {
  const parsed = parseCertificateName(text);
  if (parsed.ok) return parsed.value;
  throw new Failure(summarise(`name "${text}"`, parsed.problems));
}

function certificatePath(name: string): string {
  return `/certificate/${encodeURIComponent(name)}`;
}
