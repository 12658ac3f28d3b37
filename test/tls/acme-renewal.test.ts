/**
 * Renewal of ACME certificates, end to end with Pebble issuing short-lived
 * certificates and a small acme_renew_before: the served certificate changes
 * before expiry with no gap, and a CA that is down leaves the old one serving
 * while the renewal is tried again.
 */
import { expect, test } from "bun:test";
import { catchServerLog } from "../support/stderr.ts";
import { waitFor } from "../support/wait.ts";
import { acmeRunEach, acmeSetup, linesMatching, served, waitForLines } from "./acme-harness.ts";

const logged = catchServerLog();
const NAME = "renew.mantrid.test";
const AUTO = ["empty", { code: 204, tls: "auto" }, false];
/** Certificates live this long; renewal starts 20 s (and a few percent) before expiry. */
const VALIDITY_SECONDS = 30;
const RENEW_BEFORE_SECONDS = 20;

const run = acmeRunEach();

async function obtained(): Promise<{ port: number; serial: string }> {
  // With a contact: the renewal finds the account made for the first order, as it is.
  run.setup = await acmeSetup({
    acmeRenewBefore: RENEW_BEFORE_SECONDS,
    acmeEmail: "ops@mantrid.test",
  });
  run.mantrid = await run.setup.mantrid();
  run.pebble = await run.setup.pebble(run.mantrid, VALIDITY_SECONDS);
  await run.mantrid.set(NAME, AUTO);
  await waitForLines(logged, /acme: certificate for \S+ obtained/);
  const port = run.mantrid.running.ports.tls[0]!;
  return { port, serial: (await served(port, NAME)).serial };
}

test("a certificate is renewed before it expires, the old one serving until then", async () => {
  const { port, serial } = await obtained();

  // Handshake after handshake until the certificate changes: each one is served, old or new.
  const serials: string[] = [];
  await waitFor(
    async () => {
      serials.push((await served(port, NAME)).serial);
      return serials.at(-1) !== serial;
    },
    "the renewed certificate",
    25_000,
  );
  const [renewed] = await waitForLines(logged, /acme: certificate for \S+ renewed/);
  expect(renewed).toContain(`acme: certificate for ${NAME} renewed, valid until 20`);
  expect(new Set(serials.slice(0, -1))).toEqual(new Set([serial]));

  const now = await served(port, NAME, await run.pebble!.root());
  expect(now.serial).not.toBe(serial);
  expect(now.authorized).toBe(true);
  expect(linesMatching(logged, /acme: cannot/)).toEqual([]);
});

test("with the CA down at renewal, the old certificate serves on and the renewal is retried", async () => {
  const { port, serial } = await obtained();
  await run.pebble!.stop();
  run.pebble = null;

  // One line per failed try, with the reason and when the next one comes.
  const failures = await waitForLines(logged, /acme: cannot renew/, 2);
  for (const failure of failures.slice(0, 2)) {
    expect(failure).toContain(`acme: cannot renew the certificate for ${NAME}: cannot register`);
    expect(failure).toMatch(/Unable to connect|refused/i);
    expect(failure).toMatch(/; next try in \d+ s \(20\d\d-/);
  }
  expect((await served(port, NAME)).serial).toBe(serial);

  // The CA is back (the same address): the next try renews.
  run.pebble = await run.setup!.pebble(run.mantrid!, VALIDITY_SECONDS);
  await waitForLines(logged, /acme: certificate for \S+ renewed/);
  const now = await served(port, NAME, await run.pebble.root());
  expect(now.serial).not.toBe(serial);
  expect(now.authorized).toBe(true);
});
