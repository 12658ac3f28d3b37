/**
 * Certificates from ACME, end to end: the real server, Pebble as the CA, its
 * http-01 check answered by the server's own plain listener, the certificate
 * served by the TLS listener and kept across a restart.
 */
import { expect, test } from "bun:test";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { catchServerLog } from "../support/stderr.ts";
import { acmeRunEach, acmeSetup, linesMatching, served, waitForLines } from "./acme-harness.ts";

const logged = catchServerLog();
const NAME = "shop.mantrid.test";
const AUTO = ["empty", { code: 204, tls: "auto" }, false];

const run = acmeRunEach();

test("the first tls auto rule gets a certificate from the CA, served over bind_tls", async () => {
  run.setup = await acmeSetup();
  run.mantrid = await run.setup.mantrid();
  run.pebble = await run.setup.pebble(run.mantrid);
  const tlsPort = run.mantrid.running.ports.tls[0]!;

  await run.mantrid.set(NAME, AUTO);
  const [line] = await waitForLines(logged, /acme: certificate for \S+ obtained/);
  expect(line).toContain(`acme: certificate for ${NAME} obtained, valid until 20`);

  const leaf = await served(tlsPort, NAME, await run.pebble.root());
  expect(leaf.authorizationError).toBeNull();
  expect(leaf.authorized).toBe(true);
  expect(leaf.issuer).toMatch(/^Pebble Intermediate CA/);
  expect(leaf.names).toBe(`DNS:${NAME}`);

  // Kept as the store keeps certificates, and the account key beside them, both the owner's alone.
  const folder = join(run.mantrid.dir, "certificates");
  expect((await stat(join(folder, "acme", `${NAME}.pem`))).mode & 0o777).toBe(0o600);
  expect((await stat(join(folder, "extra", "acme-account.key"))).mode & 0o777).toBe(0o600);
  // No key material in the log.
  expect(logged.join("")).not.toContain("PRIVATE KEY");
  expect(linesMatching(logged, /acme: cannot/)).toEqual([]);
});

test("a restart with a stored valid certificate serves it without asking the CA", async () => {
  run.setup = await acmeSetup();
  run.mantrid = await run.setup.mantrid();
  run.pebble = await run.setup.pebble(run.mantrid);
  await run.mantrid.set(NAME, AUTO);
  await waitForLines(logged, /acme: certificate for \S+ obtained/);
  const before = await served(run.mantrid.running.ports.tls[0]!, NAME);

  await run.mantrid.stop();
  await run.pebble.stop();
  run.pebble = null;
  logged.length = 0;
  run.mantrid = await run.setup.mantrid();

  // Decided at start, in the same turn: kept until its renewal, so no order was placed.
  const [kept] = linesMatching(logged, /acme: certificate for \S+ kept/);
  expect(kept).toContain(`acme: certificate for ${NAME} kept, valid until 20`);
  const after = await served(run.mantrid.running.ports.tls[0]!, NAME);
  expect(after.serial).toBe(before.serial);
  expect(linesMatching(logged, /acme: cannot/)).toEqual([]);
});

test("a CA whose HTTPS certificate is not signed by acme_ca_root is refused, and said so", async () => {
  run.setup = await acmeSetup();
  // acme_ca_root names a CA that did not sign the CA's HTTPS certificate.
  const stranger = await acmeSetup();
  const config = { ...run.setup.config, acmeCaRoot: stranger.trust.caFile };
  run.mantrid = await (await import("../support/mantrid.ts")).startMantrid(config, run.setup.dir);
  run.pebble = await run.setup.pebble(run.mantrid);
  await stranger.remove();

  await run.mantrid.set(NAME, AUTO);
  const [failure] = await waitForLines(logged, /acme: cannot obtain/);
  expect(failure).toContain(`acme: cannot obtain the certificate for ${NAME}: cannot register`);
  expect(failure).toMatch(/certificate|CERT/);
  expect(failure).toMatch(/next try in \d+ s/);
  // Nothing serves that name: the handshake is refused.
  await expect(served(run.mantrid.running.ports.tls[0]!, NAME)).rejects.toThrow();
});

test("a directory URL that answers no ACME is a failure logged with its reason, and tried again", async () => {
  const notAcme = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () =>
      new Response("<html>a web page</html>", { headers: { "content-type": "text/html" } }),
  });
  try {
    run.setup = await acmeSetup({
      acmeDirectory: `http://127.0.0.1:${notAcme.port}/dir`,
      acmeRenewBefore: 10,
    });
    run.mantrid = await run.setup.mantrid();
    await run.mantrid.set(NAME, AUTO);
    const failures = await waitForLines(logged, /acme: cannot obtain/, 2);
    expect(failures[0]).toContain(`for ${NAME}: cannot register the account:`);
    expect(failures[0]).toContain("directory");
    expect(failures[0]).toMatch(/next try in 1 s/);
    await expect(served(run.mantrid.running.ports.tls[0]!, NAME)).rejects.toThrow();
  } finally {
    notAcme.stop(true);
  }
});
