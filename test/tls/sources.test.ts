/**
 * The certificate sources as `mantrid serve` starts them: the store beside the
 * state file and cert_dir, behind the real management API, across a restart.
 */
import { afterEach, beforeAll, beforeEach, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { parseAddress } from "../../src/config/address.ts";
import { ConfigError } from "../../src/config/config.ts";
import { CertificateCatalog } from "../../src/tls/catalog.ts";
import { startCertificates } from "../../src/tls/sources.ts";
import { makeCa, type TestCa } from "../support/certificates.ts";
import { startMantrid, type TestMantrid } from "../support/mantrid.ts";
import "../support/quiet.ts";

let ca: TestCa;
let root: string;
let running: TestMantrid | null;

beforeAll(async () => {
  ca = await makeCa();
});
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "mantrid-sources-"));
  running = null;
});
afterEach(async () => {
  await running?.stop();
  await rm(root, { recursive: true, force: true });
});

const config = (certDir: string | null) => ({
  stateFile: join(root, "state", "state.json"),
  certDir,
  uid: null,
  gid: null,
});

test("a cert_dir that is missing, or a file, stops the start with one line", async () => {
  await mkdir(join(root, "state"));
  const missing = join(root, "missing");
  const started = startCertificates(config(missing), new CertificateCatalog());
  await expect(started).rejects.toBeInstanceOf(ConfigError);
  await expect(started).rejects.toThrow(
    `cannot read cert_dir ${missing}: a folder on the path does not exist (ENOENT); ` +
      "set cert_dir to a folder of <name>.pem or <name>.crt and <name>.key files",
  );
  const file = join(root, "file");
  await writeFile(file, "");
  await expect(startCertificates(config(file), new CertificateCatalog())).rejects.toThrow(
    `cannot read cert_dir ${file}: it is a file, not a folder`,
  );
});

/** `GET /certificate/` of the running server, as name and source. */
async function listed(url: string): Promise<string[]> {
  const answer = (await (await fetch(`${url}/certificate/`)).json()) as {
    name: string;
    source: string;
  }[];
  return answer.map((one) => `${one.source} ${one.name}`);
}

test("serve: the API's and cert_dir's certificates, a rescan, and the API's after a restart", async () => {
  const certDir = join(root, "certs");
  await mkdir(certDir);
  const a = await ca.issue(["a.example.com"]);
  await writeFile(join(certDir, "a.example.com.pem"), `${a.chain}${a.key}`);
  const state = join(root, "state");
  await mkdir(state);
  running = await startMantrid({ certDir }, state);
  expect(await listed(running.url)).toEqual(["dir a.example.com"]);

  const b = await ca.issue(["b.example.com"]);
  const put = await fetch(`${running.url}/certificate/b.example.com`, {
    method: "PUT",
    body: JSON.stringify({ cert: b.chain, key: b.key }),
  });
  expect(put.status).toBe(200);

  const c = await ca.issue(["c.example.com"]);
  await writeFile(join(certDir, "c.example.com.pem"), `${c.chain}${c.key}`);
  await running.running.rescanCertificates();
  expect(await listed(running.url)).toEqual([
    "dir a.example.com",
    "api b.example.com",
    "dir c.example.com",
  ]);

  await running.stop();
  await rm(join(certDir, "a.example.com.pem"));
  running = await startMantrid({ certDir }, state);
  expect(await listed(running.url)).toEqual(["api b.example.com", "dir c.example.com"]);
});

/** The leaf a TLS listener shows for `servername`, as PEM-free text: its subject's CN and serial. */
function servedLeaf(port: number, servername: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, servername, ca }, () => {
      const peer = socket.getPeerCertificate();
      socket.end();
      resolve(peer.serialNumber.toLowerCase());
    });
    socket.on("error", reject);
  });
}

const serialOf = (pem: string) => new X509Certificate(pem).serialNumber.toLowerCase();

test("serve: the handshake after the API's answer uses its certificate", async () => {
  const certDir = join(root, "certs");
  await mkdir(certDir);
  const fromDir = await ca.issue(["a.example.com"]);
  await writeFile(join(certDir, "a.example.com.pem"), `${fromDir.chain}${fromDir.key}`);
  running = await startMantrid({ certDir, bindTls: [parseAddress("127.0.0.1:0")] });
  const port = running.running.ports.tls[0]!;
  expect(await servedLeaf(port, "a.example.com", ca.cert)).toBe(serialOf(fromDir.leaf));

  const given = await ca.issue(["a.example.com"]);
  const put = await fetch(`${running.url}/certificate/a.example.com`, {
    method: "PUT",
    body: JSON.stringify({ cert: given.chain, key: given.key }),
  });
  expect(put.status).toBe(200);
  expect(await servedLeaf(port, "a.example.com", ca.cert)).toBe(serialOf(given.leaf));

  const deleted = await fetch(`${running.url}/certificate/a.example.com`, { method: "DELETE" });
  expect(deleted.status).toBe(200);
  expect(await servedLeaf(port, "a.example.com", ca.cert)).toBe(serialOf(fromDir.leaf));
});
