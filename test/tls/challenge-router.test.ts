/** ACME http-01 answers on plain listeners, before the rules, only while a challenge is pending. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import "../support/quiet.ts";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAddress } from "../../src/config/address.ts";
import { DEFAULTS } from "../../src/config/config.ts";
import { type DataPlane, startDataPlane } from "../../src/proxy/data-plane.ts";
import { parseRule } from "../../src/rules/schema.ts";
import { StatsBook } from "../../src/stats/host-stats.ts";
import { CertificateCatalog } from "../../src/tls/catalog.ts";
import { ChallengeBook } from "../../src/tls/challenges.ts";
import { connect, parseResponses } from "../support/wire.ts";
import { type CaFiles, caFiles, catalogEntry, curlHttps } from "./harness.ts";

const PATH = "/.well-known/acme-challenge/";

let dir: string;
let files: CaFiles;
let plane: DataPlane;
const book = new ChallengeBook();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mantrid-acme-"));
  files = await caFiles();
  const catalog = new CertificateCatalog();
  const pem = await files.issue(["app.test"]);
  catalog.put(catalogEntry("app.test", pem));
  const address = parseAddress("127.0.0.1:0");
  plane = startDataPlane(
    { ...DEFAULTS, bind: [address], bindInternal: [address], bindTls: [address], staticDir: dir },
    new StatsBook(),
    { reusePort: false, certificates: catalog, challenges: book },
  );
  const rule = parseRule(["empty", { code: 204 }, true]);
  if (!rule.ok) throw new Error("rule");
  plane.table.set("app.test", rule.value);
});
afterAll(async () => {
  await plane.stop(0);
  await files.remove();
  await rm(dir, { recursive: true, force: true });
});

async function ask(port: number, request: string) {
  const connection = await connect(port);
  connection.send(`${request} HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n`);
  return parseResponses(await connection.closed)[0]!;
}

test("with no challenge pending, the path goes to the rules like any other", async () => {
  expect((await ask(plane.ports.bind[0]!, `GET ${PATH}token-1`)).status).toBe(204);
});

test("a pending challenge is answered on plain listeners, before the rules", async () => {
  book.set("token-1", "token-1.thumbprint");
  try {
    for (const port of [plane.ports.bind[0]!, plane.ports.internal[0]!]) {
      const answer = await ask(port, `GET ${PATH}token-1`);
      expect(answer.status).toBe(200);
      expect(answer.headers["content-type"]).toBe("text/plain");
      expect(answer.body.toString()).toBe("token-1.thumbprint");
    }
    const head = await connect(plane.ports.bind[0]!);
    head.send(`HEAD ${PATH}token-1 HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n`);
    const headAnswer = (await head.closed).toString();
    expect(headAnswer).toStartWith("HTTP/1.1 200 ");
    expect(headAnswer).toEndWith("\r\n\r\n");
    // Other tokens, other methods and other paths still reach the rule.
    expect((await ask(plane.ports.bind[0]!, `GET ${PATH}token-2`)).status).toBe(204);
    expect((await ask(plane.ports.bind[0]!, `POST ${PATH}token-1`)).status).toBe(204);
    expect((await ask(plane.ports.bind[0]!, "GET /token-1")).status).toBe(204);
    // Not over TLS: http-01 is plain HTTP.
    const secure = await curlHttps("app.test", plane.ports.tls[0]!, files.caFile, `${PATH}token-1`);
    expect(secure.status).toBe(204);
  } finally {
    book.delete("token-1");
  }
  expect((await ask(plane.ports.bind[0]!, `GET ${PATH}token-1`)).status).toBe(204);
});
