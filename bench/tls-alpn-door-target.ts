/**
 * The target of bench/tls-alpn-door.ts, in a process of its own so that its
 * CPU time is its alone: a data plane as `mantrid serve` runs it in process
 * (metrics counted), one `bind_tls` listener on 127.0.0.1 with one
 * certificate (`tls_default` is its name: wrk sends the URL's IP as SNI),
 * and one proxy rule for the bench hostname. `ALPN_DOOR_MODE=door` puts a
 * tls-alpn-01 check for another name in the challenge book, so the listener
 * serves through the hello door for as long as the process lives; `native`
 * leaves the book empty.
 *
 *   ALPN_DOOR_MODE=door ALPN_DOOR_PEM=<chain and key> ALPN_DOOR_BACKEND=<port> \
 *     ALPN_DOOR_STATIC=<folder> ALPN_DOOR_PENDING=other.test bun bench/tls-alpn-door-target.ts
 *
 * logs `listening on 127.0.0.1:PORT` on stderr once it serves.
 */
import { readFileSync } from "node:fs";
import { parseAddress } from "../src/config/address.ts";
import { DEFAULTS } from "../src/config/config.ts";
import { startDataPlane } from "../src/proxy/data-plane.ts";
import { parseRule } from "../src/rules/schema.ts";
import { StatsBook } from "../src/stats/host-stats.ts";
import { Observers } from "../src/stats/observers.ts";
import { alpnCertificate } from "../src/tls/alpn/certificate.ts";
import { CertificateCatalog } from "../src/tls/catalog.ts";
import { ChallengeBook } from "../src/tls/challenges.ts";
import { parseCertificateFile } from "../src/tls/parse.ts";
import { BENCH_HOST, proxyRule } from "./peers.ts";

const mode = process.env.ALPN_DOOR_MODE;
if (mode !== "door" && mode !== "native") {
  throw new Error(`ALPN_DOOR_MODE must be door or native, not ${JSON.stringify(mode)}`);
}
const pem = readFileSync(process.env.ALPN_DOOR_PEM ?? "", "utf8");
const backendPort = Number(process.env.ALPN_DOOR_BACKEND);
/** The name whose check stays pending in `door` mode (no client of the load asks for it). */
const pendingName = process.env.ALPN_DOOR_PENDING ?? "other.test";

const catalog = new CertificateCatalog();
catalog.put(parseCertificateFile(BENCH_HOST, pem, "dir", Date.now()));
const book = new ChallengeBook();
const plane = startDataPlane(
  {
    ...DEFAULTS,
    bind: [],
    bindTls: [parseAddress("127.0.0.1:0")],
    tlsDefault: BENCH_HOST,
    staticDir: process.env.ALPN_DOOR_STATIC ?? "",
  },
  new StatsBook(),
  { reusePort: true, observers: new Observers(), certificates: catalog, challenges: book },
);
const rule = parseRule(proxyRule(backendPort));
if (!rule.ok) throw new Error(`the bench rule: ${JSON.stringify(rule.problems)}`);
plane.table.set(BENCH_HOST, rule.value);
// As an order does once its authorization is pending: the listener switches to the hello door.
if (mode === "door") {
  book.setAlpn(pendingName, alpnCertificate(pendingName, "bench-token.bench-thumbprint"));
}

process.stderr.write(`listening on 127.0.0.1:${plane.ports.tls[0]} (${mode})\n`);
process.on("SIGTERM", () => {
  plane.stop(0).finally(() => process.exit(0));
});
