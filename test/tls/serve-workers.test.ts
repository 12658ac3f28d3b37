/**
 * `mantrid serve` from source with `workers = 2`, a TLS listener and cert_dir:
 * once the API has answered, every worker's next handshake uses the change,
 * and a file added to cert_dir soon serves in every worker.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import type { Subprocess } from "bun";
import { makeCa, type Pem, type TestCa } from "../support/certificates.ts";
import { SRC } from "../support/script.ts";
import { waitFor } from "../support/wait.ts";

let folder: string;
let certs: string;
let server: Subprocess<"ignore", "ignore", "pipe">;
let tlsPort: number;
let api: string;
let ca: TestCa;
let fromDir: Pem;
const log = { text: "" };

/** Waits until the server's log shows `pattern`. */
async function logged(pattern: RegExp): Promise<RegExpMatchArray> {
  await waitFor(() => pattern.test(log.text), `${pattern} in the log:\n${log.text}`);
  return log.text.match(pattern)!;
}

beforeAll(async () => {
  ca = await makeCa();
  folder = await mkdtemp(join(tmpdir(), "mantrid-tls-workers-"));
  certs = join(folder, "certs");
  await mkdir(certs);
  fromDir = await ca.issue(["a.example.com"]);
  await writeFile(join(certs, "a.example.com.pem"), `${fromDir.chain}${fromDir.key}`);
  const conf = join(folder, "mantrid.conf");
  await writeFile(
    conf,
    [
      "bind = 127.0.0.1:0",
      "bind_tls = 127.0.0.1:0",
      "bind_management = 127.0.0.1:0",
      `state_file = ${join(folder, "state.json")}`,
      `static_dir = ${folder}`,
      `cert_dir = ${certs}`,
      "workers = 2",
    ].join("\n"),
  );
  server = Bun.spawn([process.execPath, `${SRC}/main.ts`, "serve", "-c", conf], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of server.stderr) log.text += decoder.decode(chunk);
  })();
  tlsPort = Number((await logged(/listening on 127\.0\.0\.1:(\d+) \(TLS\)/))[1]);
  api = (await logged(/management API on (http:\/\/[^\s]+?)\/?\s/))[1]!;
});
afterAll(async () => {
  server.kill("SIGKILL");
  await server.exited;
  await rm(folder, { recursive: true, force: true });
});

/** The serial of the leaf the TLS listener shows for `servername`. */
function servedSerial(servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port: tlsPort, servername, ca: ca.cert }, () => {
      resolve(socket.getPeerCertificate().serialNumber.toLowerCase());
      socket.end();
    });
    socket.on("error", reject);
  });
}

/** What eight handshakes at once saw: the kernel spreads them over both workers. */
async function servedBy(servername: string): Promise<Set<string>> {
  return new Set(await Promise.all([...Array(8)].map(() => servedSerial(servername))));
}

const serialOf = (pem: Pem) => new X509Certificate(pem.leaf).serialNumber.toLowerCase();

test("the handshakes after the API's answer use its certificate, in every worker", async () => {
  expect(await servedBy("a.example.com")).toEqual(new Set([serialOf(fromDir)]));
  const given = await ca.issue(["a.example.com"]);
  const put = await fetch(`${api}/certificate/a.example.com`, {
    method: "PUT",
    body: JSON.stringify({ cert: given.chain, key: given.key }),
  });
  expect(put.status).toBe(200);
  expect(await servedBy("a.example.com")).toEqual(new Set([serialOf(given)]));
  const deleted = await fetch(`${api}/certificate/a.example.com`, { method: "DELETE" });
  expect(deleted.status).toBe(200);
  expect(await servedBy("a.example.com")).toEqual(new Set([serialOf(fromDir)]));
});

test("a file added to cert_dir serves in every worker", async () => {
  const added = await ca.issue(["b.example.com"]);
  await writeFile(join(certs, "b.example.com.pem"), `${added.chain}${added.key}`);
  await logged(/cert_dir: b\.example\.com\.pem serves b\.example\.com/);
  // The workers are told right after the primary reads it: no answer to wait for here.
  await waitFor(
    async () => (await servedBy("b.example.com")).has(serialOf(added)),
    "b.example.com served",
  );
  expect(await servedBy("b.example.com")).toEqual(new Set([serialOf(added)]));
});
