/**
 * The `tls` rule option and what the server does with it apart from the CA:
 * "auto" is the only value, it cannot cover subdomains, a deleted rule
 * stops its certificate serving (the file stays, and serves again when a
 * rule asks again), and a server with no listener the CA could check says
 * why it cannot obtain one.
 */
import { expect, test } from "bun:test";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError } from "../../src/config/config.ts";
import { parseRule } from "../../src/rules/schema.ts";
import { serve } from "../../src/serve.ts";
import { startMantrid } from "../support/mantrid.ts";
import { catchServerLog } from "../support/stderr.ts";
import { acmeRunEach, acmeSetup, linesMatching, served, waitForLines } from "./acme-harness.ts";

const logged = catchServerLog();
const NAME = "rules.mantrid.test";

const run = acmeRunEach();

async function put(rule: unknown): Promise<{ status: number; body: string }> {
  const response = await fetch(`${run.mantrid!.url}/hostname/${NAME}/`, {
    method: "PUT",
    body: JSON.stringify(rule),
  });
  return { status: response.status, body: await response.text() };
}

test('tls takes "auto" on any action, as JSON or as the command line sends it', () => {
  for (const rule of [
    ["proxy", { backends: "127.0.0.1:8000", tls: "auto" }, false],
    ["static", { type: "test", tls: "auto" }, false],
    ["redirect", { redirect_to: "https://example.com/", tls: "auto" }, false],
    ["empty", { code: 204, tls: "auto" }, false],
    ["spin", { tls: "auto" }, false],
    ["unknown", { tls: "auto" }, false],
  ]) {
    expect(parseRule(rule)).toMatchObject({ ok: true, value: { options: { tls: "auto" } } });
  }
  // Left out, it stays out of the stored rule.
  const plain = parseRule(["empty", { code: 204 }, false]);
  expect(plain.ok && "tls" in plain.value.options).toBe(false);
});

test("any other tls value is refused with a 400 naming options.tls, and nothing changes", async () => {
  run.mantrid = await startMantrid();
  for (const tls of ["manual", "AUTO", true, 1, null, ""]) {
    const answer = await put(["empty", { code: 204, tls }, false]);
    expect(answer.status).toBe(400);
    const body = JSON.parse(answer.body) as { issues: { path: string[]; message: string }[] };
    expect(body.issues).toContainEqual({
      path: ["options", "tls"],
      message: 'tls is "auto" (a certificate obtained from ACME) or left out',
    });
  }
  expect(run.mantrid.running.registry.has(NAME)).toBe(false);
});

test("tls auto with match_subdomains is refused: http-01 cannot prove a wildcard", async () => {
  run.mantrid = await startMantrid();
  const answer = await put(["empty", { code: 204, tls: "auto" }, true]);
  expect(answer.status).toBe(400);
  const body = JSON.parse(answer.body) as { issues: { path: string[]; message: string }[] };
  expect(body.issues).toHaveLength(1);
  expect(body.issues[0]!.path).toEqual(["options", "tls"]);
  expect(body.issues[0]!.message).toContain("cannot prove a wildcard (*.example.com)");
  expect(body.issues[0]!.message).toContain("set match_subdomains to false");
  expect(run.mantrid.running.registry.has(NAME)).toBe(false);
});

test("a deleted rule's certificate stops serving, its file stays, and a new rule serves it again", async () => {
  run.setup = await acmeSetup();
  run.mantrid = await run.setup.mantrid();
  run.pebble = await run.setup.pebble(run.mantrid);
  const port = run.mantrid.running.ports.tls[0]!;
  await run.mantrid.set(NAME, ["empty", { code: 204, tls: "auto" }, false]);
  await waitForLines(logged, /acme: certificate for \S+ obtained/);
  const first = await served(port, NAME);

  await fetch(`${run.mantrid.url}/hostname/${NAME}/`, { method: "DELETE" });
  await expect(served(port, NAME)).rejects.toThrow();
  const file = join(run.mantrid.dir, "certificates", "acme", `${NAME}.pem`);
  expect((await stat(file)).isFile()).toBe(true);

  // The same name under the https:// key: the kept certificate serves again, no new order.
  logged.length = 0;
  await run.mantrid.set(`https://${NAME}`, ["empty", { code: 204, tls: "auto" }, false]);
  expect(linesMatching(logged, /acme: certificate for \S+ kept/)).toHaveLength(1);
  expect((await served(port, NAME)).serial).toBe(first.serial);
  // A rule without tls for it changes nothing: the https:// one still asks.
  await run.mantrid.set(NAME, ["empty", { code: 204 }, false]);
  expect((await served(port, NAME)).serial).toBe(first.serial);
  expect(linesMatching(logged, /acme: (cannot|certificate for \S+ obtained)/)).toEqual([]);
});

test("with no listener the CA could check, a tls auto rule is taken but the log says why no certificate comes", async () => {
  run.mantrid = await startMantrid({ bind: [] });
  await run.mantrid.set(NAME, ["empty", { code: 204, tls: "auto" }, false]);
  const [warning] = await waitForLines(logged, /acme: cannot obtain/);
  expect(warning).toContain(`acme: cannot obtain a certificate for ${NAME}:`);
  expect(warning).toContain("no bind or bind_tls listener is configured");
});

test("an acme_ca_root that cannot be read stops the start with an error naming it", async () => {
  run.setup = await acmeSetup();
  const missing = join(run.setup.dir, "no-such-ca.pem");
  const starting = serve({
    ...(await import("../../src/config/config.ts")).DEFAULTS,
    bindManagement: [],
    bind: [],
    stateFile: join(run.setup.dir, "state.json"),
    acmeCaRoot: missing,
  });
  await expect(starting).rejects.toBeInstanceOf(ConfigError);
  await expect(starting).rejects.toThrow(`read acme_ca_root ${missing}`);
});
