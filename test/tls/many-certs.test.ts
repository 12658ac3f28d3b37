/**
 * A cert_dir of many files, more than one batch of reads and more than the
 * log tells one by one: each name serves its own certificate over a real
 * listener, at start and after many files change at once; a file that cannot
 * be read is reported and the others load; the log tells many changes in one
 * line.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { parseAddress } from "../../src/config/address.ts";
import { BATCH } from "../../src/tls/batches.ts";
import { CertificateCatalog } from "../../src/tls/catalog.ts";
import { CertDir } from "../../src/tls/cert-dir.ts";
import type { FolderProblem } from "../../src/tls/cert-dir-files.ts";
import { LINES_EACH } from "../../src/tls/cert-dir-lines.ts";
import { makeCa, type Pem, type TestCa } from "../support/certificates.ts";
import { startMantrid, type TestMantrid } from "../support/mantrid.ts";
import { catchServerLog } from "../support/stderr.ts";

/** Names enough for two batches of reads and then some. */
const COUNT = 2 * BATCH + 22;
const names = Array.from({ length: COUNT }, (_, i) => `n${i}.many.test`);

let ca: TestCa;
/** The certificate each name's file holds at first. */
let issued: Pem[];
let root: string;
let certDir: string;
let running: TestMantrid | null;
let dir: CertDir | null;

beforeAll(async () => {
  ca = await makeCa();
  issued = await Promise.all(names.map((name) => ca.issue([name])));
});
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "mantrid-many-"));
  certDir = join(root, "certs");
  await mkdir(certDir);
  running = null;
  dir = null;
});
afterEach(async () => {
  await running?.stop();
  await dir?.stop();
  await rm(root, { recursive: true, force: true });
});

const logged = catchServerLog();
const certDirLines = () =>
  logged
    .join("")
    .split("\n")
    .filter((line) => line.includes("cert_dir:"));

const pemFile = (pem: Pem) => `${pem.chain}${pem.key}`;
const serialOf = (pem: Pem) => new X509Certificate(pem.leaf).serialNumber.toLowerCase();

/** Writes the name's file beside the folder's, then moves it in, as the README advises. */
async function place(name: string, pem: Pem): Promise<void> {
  const temp = join(certDir, `.${name}.pem.tmp`);
  await writeFile(temp, pemFile(pem));
  await rename(temp, join(certDir, `${name}.pem`));
}

/** The serial of the leaf a handshake for `servername` gets, or null when it is refused. */
function servedSerial(port: number, servername: string): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port, servername, ca: ca.cert }, () => {
      const serial = socket.getPeerCertificate().serialNumber.toLowerCase();
      socket.end();
      resolve(serial);
    });
    socket.on("error", () => resolve(null));
  });
}

async function startServer(): Promise<number> {
  running = await startMantrid({ certDir, bindTls: [parseAddress("127.0.0.1:0")] });
  return running.running.ports.tls[0]!;
}

describe("served over a TLS listener", () => {
  test("every name gets its own certificate; the start tells them all in one line", async () => {
    await Promise.all(names.map((name, i) => place(name, issued[i]!)));
    const port = await startServer();
    for (const [i, name] of names.entries()) {
      expect(await servedSerial(port, name)).toBe(serialOf(issued[i]!));
    }
    expect(certDirLines()).toEqual([
      expect.stringContaining(`cert_dir: ${COUNT} certificates of ${certDir} serve`),
    ]);
  });

  test("many files replaced, removed and added at once: each name serves what its file now holds", async () => {
    await Promise.all(names.map((name, i) => place(name, issued[i]!)));
    const port = await startServer();
    const replaced = names.slice(0, BATCH + 5);
    const removed = names.slice(BATCH + 5, BATCH + 40);
    const added = Array.from({ length: 15 }, (_, i) => `added${i}.many.test`);
    const renewed = await Promise.all(replaced.map((name) => ca.issue([name])));
    const fresh = await Promise.all(added.map((name) => ca.issue([name])));
    await Promise.all([
      ...replaced.map((name, i) => place(name, renewed[i]!)),
      ...removed.map((name) => rm(join(certDir, `${name}.pem`))),
      ...added.map((name, i) => place(name, fresh[i]!)),
    ]);
    // However the watcher split the changes, a rescan after them all settles the folder.
    await running!.running.rescanCertificates();

    for (const [i, name] of names.entries()) {
      const expected = replaced.includes(name)
        ? serialOf(renewed[i]!)
        : removed.includes(name)
          ? null
          : serialOf(issued[i]!);
      expect(await servedSerial(port, name)).toBe(expected);
    }
    for (const [i, name] of added.entries()) {
      expect(await servedSerial(port, name)).toBe(serialOf(fresh[i]!));
    }
  });
});

describe("read in batches", () => {
  let problems: FolderProblem[];

  async function startDir(): Promise<CertificateCatalog> {
    const catalog = new CertificateCatalog();
    problems = [];
    // No watcher's reading during the test: only start and rescan read.
    dir = new CertDir(certDir, catalog, {
      debounceMs: 3_600_000,
      onProblem: (problem) => problems.push(problem),
    });
    await dir.start();
    return catalog;
  }

  test("a file that cannot be read is reported in one line; the others load", async () => {
    await Promise.all(names.map((name, i) => place(name, issued[i]!)));
    await symlink(join(root, "nowhere.pem"), join(certDir, "broken.many.test.pem"));
    const catalog = await startDir();
    expect(catalog.all().map((one) => one.name)).toEqual([...names].sort());
    expect(problems).toEqual([
      {
        name: "broken.many.test",
        label: "broken.many.test.pem",
        message: "cannot be read: ENOENT",
      },
    ]);
    expect(certDirLines()).toEqual([
      expect.stringContaining(`cert_dir: ${COUNT} certificates of ${certDir} serve`),
      expect.stringContaining(
        "cert_dir: broken.many.test.pem: cannot be read: ENOENT; broken.many.test does not serve from cert_dir",
      ),
    ]);
  });

  test("a reading of files that did not change changes nothing; one rewritten alike neither", async () => {
    await Promise.all(names.map((name, i) => place(name, issued[i]!)));
    const catalog = await startDir();
    const before = catalog.all();
    const third = catalog.serving(names[3]!);
    let changes = 0;
    catalog.onChange(() => changes++);
    logged.length = 0;
    await place(names[3]!, issued[3]!);
    await dir!.rescan();
    expect(changes).toBe(0);
    expect(certDirLines()).toEqual([]);
    expect(catalog.all()).toEqual(before);

    const renewed = await ca.issue([names[3]!]);
    await place(names[3]!, renewed);
    await dir!.rescan();
    expect(changes).toBe(1);
    expect(catalog.serving(names[3]!)).not.toBe(third);
    expect(catalog.serving(names[3]!)?.cert).toStartWith(renewed.leaf.trim());
  });

  test(`up to ${LINES_EACH} changes get a line each; more, and their removal, one line`, async () => {
    const few = names.slice(0, LINES_EACH);
    await Promise.all(few.map((name, i) => place(name, issued[i]!)));
    const catalog = await startDir();
    expect(certDirLines()).toEqual(
      few.map((name) => expect.stringContaining(`cert_dir: ${name}.pem serves ${name} (expires `)),
    );

    logged.length = 0;
    await Promise.all(names.map((name, i) => place(name, issued[i]!)));
    await dir!.rescan();
    expect(catalog.all().length).toBe(COUNT);
    expect(certDirLines()).toEqual([
      expect.stringContaining(`cert_dir: ${COUNT - LINES_EACH} certificates of ${certDir} serve`),
    ]);

    logged.length = 0;
    await Promise.all(names.map((name) => rm(join(certDir, `${name}.pem`))));
    await dir!.rescan();
    expect(catalog.all()).toEqual([]);
    expect(certDirLines()).toEqual([
      expect.stringContaining(
        `cert_dir: the files of ${COUNT} names are gone; they no longer serve from cert_dir`,
      ),
    ]);
  });
});
