/**
 * ACME's tls-alpn-01 check end to end: Pebble connects to the TLS listener
 * asking for the name with ALPN `acme-tls/1`, gets the challenge certificate,
 * and the certificate it then issues is served by the same listener.
 */
import { expect, test } from "bun:test";
import { freePort } from "../support/pebble.ts";
import { catchServerLog } from "../support/stderr.ts";
import { acmeRunEach, acmeSetup, linesMatching, served, waitForLines } from "./acme-harness.ts";

const logged = catchServerLog();
const NAME = "alpn.mantrid.test";
const AUTO = ["empty", { code: 204, tls: "auto" }, false];

const run = acmeRunEach();

test("acme_challenge = tls-alpn-01: the TLS listener answers the check, then serves the certificate", async () => {
  run.setup = await acmeSetup({ acmeChallenge: "tls-alpn-01" });
  run.mantrid = await run.setup.mantrid();
  // Pebble's http-01 port points at nothing: only the TLS listener can prove the name.
  const tlsPort = run.mantrid.running.ports.tls[0]!;
  run.pebble = await run.setup.pebble({ plain: freePort(), tls: tlsPort });

  await run.mantrid.set(NAME, AUTO);
  const [line] = await waitForLines(logged, /acme: certificate for \S+ obtained/);
  expect(line).toContain(`acme: certificate for ${NAME} obtained, valid until 20`);
  // Pebble looks more than once (from several "perspectives"), each time over TLS.
  const checks = linesMatching(logged, /answered the tls-alpn-01 check/);
  expect(checks.length).toBeGreaterThan(0);
  for (const check of checks) {
    expect(check).toContain(`answered the tls-alpn-01 check for ${NAME} from 127.0.0.1`);
  }
  // The listener read hellos only while the check was pending.
  const doors = linesMatching(logged, /tls listener .*: (reads each hello|native TLS again)/);
  expect(doors.map((door) => /reads each hello/.test(door))).toEqual([true, false]);

  const leaf = await served(tlsPort, NAME, await run.pebble.root());
  expect(leaf.authorizationError).toBeNull();
  expect(leaf.issuer).toMatch(/^Pebble Intermediate CA/);
  expect(leaf.names).toBe(`DNS:${NAME}`);
  expect(linesMatching(logged, /acme: cannot/)).toEqual([]);
  expect(logged.join("")).not.toContain("PRIVATE KEY");
});

test("with no bind listener, tls-alpn-01 is chosen by itself", async () => {
  run.setup = await acmeSetup({ bind: [] });
  run.mantrid = await run.setup.mantrid();
  const tlsPort = run.mantrid.running.ports.tls[0]!;
  run.pebble = await run.setup.pebble({ plain: freePort(), tls: tlsPort });

  await run.mantrid.set(NAME, AUTO);
  await waitForLines(logged, /acme: certificate for \S+ obtained/);
  expect(linesMatching(logged, /answered the tls-alpn-01 check/).length).toBeGreaterThan(0);
  expect((await served(tlsPort, NAME, await run.pebble.root())).authorized).toBe(true);
});

test("acme_challenge = tls-alpn-01 without a bind_tls listener says why no certificate comes", async () => {
  run.setup = await acmeSetup({ acmeChallenge: "tls-alpn-01", bindTls: [] });
  run.mantrid = await run.setup.mantrid();
  await run.mantrid.set(NAME, AUTO);
  const [line] = await waitForLines(logged, /acme: cannot obtain a certificate/);
  expect(line).toContain(`for ${NAME}: acme_challenge = tls-alpn-01 and no bind_tls listener`);
});
