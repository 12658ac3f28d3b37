/**
 * Certificates from ACME, end to end: the real server, Pebble as the CA, its
 * http-01 check answered by the server's own plain listener, the certificate
 * served by the TLS listener and kept across a restart.
 */
import { afterEach, expect, test } from "bun:test";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { TestMantrid } from "../support/mantrid.ts";
import type { Pebble } from "../support/pebble.ts";
import { catchServerLog } from "../support/stderr.ts";
import { type AcmeSetup, acmeSetup, linesMatching, served, waitForLines } from "./acme-harness.ts";

const logged = catchServerLog();
const NAME = "shop.mantrid.test";
const AUTO = ["empty", { code: 204, tls: "auto" }, false];

let setup: AcmeSetup | null = null;
let mantrid: TestMantrid | null = null;
let pebble: Pebble | null = null;

afterEach(async () => {
  await mantrid?.stop();
  await pebble?.stop();
  await setup?.remove();
  mantrid = pebble = setup = null;
});

test("the first tls auto rule gets a certificate from the CA, served over bind_tls", async () => {
  setup = await acmeSetup();
  mantrid = await setup.mantrid();
  pebble = await setup.pebble(mantrid);
  const tlsPort = mantrid.running.ports.tls[0]!;

  await mantrid.set(NAME, AUTO);
  const [line] = await waitForLines(logged, /acme: certificate for \S+ obtained/);
  expect(line).toContain(`acme: certificate for ${NAME} obtained, valid until 20`);

  const leaf = await served(tlsPort, NAME, await pebble.root());
  expect(leaf.authorizationError).toBeNull();
  expect(leaf.authorized).toBe(true);
  expect(leaf.issuer).toMatch(/^Pebble Intermediate CA/);
  expect(leaf.names).toBe(`DNS:${NAME}`);

  // Kept as the store keeps certificates, and the account key beside them, both the owner's alone.
  const folder = join(mantrid.dir, "certificates");
  expect((await stat(join(folder, "acme", `${NAME}.pem`))).mode & 0o777).toBe(0o600);
  expect((await stat(join(folder, "extra", "acme-account.key"))).mode & 0o777).toBe(0o600);
  // No key material in the log.
  expect(logged.join("")).not.toContain("PRIVATE KEY");
  expect(linesMatching(logged, /acme: cannot/)).toEqual([]);
});

test("a restart with a stored valid certificate serves it without asking the CA", async () => {
  setup = await acmeSetup();
  mantrid = await setup.mantrid();
  pebble = await setup.pebble(mantrid);
  await mantrid.set(NAME, AUTO);
  await waitForLines(logged, /acme: certificate for \S+ obtained/);
  const before = await served(mantrid.running.ports.tls[0]!, NAME);

  await mantrid.stop();
  await pebble.stop();
  pebble = null;
  logged.length = 0;
  mantrid = await setup.mantrid();

  // Decided at start, in the same turn: kept until its renewal, so no order was placed.
  const [kept] = linesMatching(logged, /acme: certificate for \S+ kept/);
  expect(kept).toContain(`acme: certificate for ${NAME} kept, valid until 20`);
  const after = await served(mantrid.running.ports.tls[0]!, NAME);
  expect(after.serial).toBe(before.serial);
  expect(linesMatching(logged, /acme: cannot/)).toEqual([]);
});

test("a CA whose HTTPS certificate is not signed by acme_ca_root is refused, and said so", async () => {
  setup = await acmeSetup();
  // acme_ca_root names a CA that did not sign the CA's HTTPS certificate.
  const stranger = await acmeSetup();
  const config = { ...setup.config, acmeCaRoot: stranger.trust.caFile };
  mantrid = await (await import("../support/mantrid.ts")).startMantrid(config, setup.dir);
  pebble = await setup.pebble(mantrid);
  await stranger.remove();

  await mantrid.set(NAME, AUTO);
  const [failure] = await waitForLines(logged, /acme: cannot obtain/);
  expect(failure).toContain(`acme: cannot obtain the certificate for ${NAME}: cannot register`);
  expect(failure).toMatch(/certificate|CERT/);
  expect(failure).toMatch(/next try in \d+ s/);
  // Nothing serves that name: the handshake is refused.
  await expect(served(mantrid.running.ports.tls[0]!, NAME)).rejects.toThrow();
});

test("a directory URL that answers no ACME is a failure logged with its reason, and tried again", async () => {
  const notAcme = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () =>
      new Response("<html>a web page</html>", { headers: { "content-type": "text/html" } }),
  });
  try {
    setup = await acmeSetup({
      acmeDirectory: `http://127.0.0.1:${notAcme.port}/dir`,
      acmeRenewBefore: 10,
    });
    mantrid = await setup.mantrid();
    await mantrid.set(NAME, AUTO);
    const failures = await waitForLines(logged, /acme: cannot obtain/, 2);
    expect(failures[0]).toContain(`for ${NAME}: cannot register the account:`);
    expect(failures[0]).toContain("directory");
    expect(failures[0]).toMatch(/next try in 1 s/);
    await expect(served(mantrid.running.ports.tls[0]!, NAME)).rejects.toThrow();
  } finally {
    notAcme.stop(true);
  }
});
