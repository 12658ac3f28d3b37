/**
 * ACME with `workers = 2`, `mantrid serve` from source and compiled: the primary
 * orders, the workers answer the CA's check (http-01 on their plain
 * listeners, or tls-alpn-01 on their TLS ones), and every worker serves the
 * certificate.
 */
import { afterAll, expect, test } from "bun:test";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { ensureBinary } from "../support/binary.ts";
import { freePort, type Pebble } from "../support/pebble.ts";
import { SRC } from "../support/script.ts";
import { waitFor } from "../support/wait.ts";
import { type AcmeSetup, acmeSetup, served } from "./acme-harness.ts";

const NAME = "workers.mantrid.test";
let setup: AcmeSetup | null = null;
let server: Subprocess<"ignore", "ignore", "pipe"> | null = null;
let pebble: Pebble | null = null;
const log = { text: "" };

async function stopAll(): Promise<void> {
  server?.kill("SIGKILL");
  await server?.exited;
  await pebble?.stop();
  await setup?.remove();
  server = pebble = setup = null;
}

afterAll(stopAll);

async function logged(pattern: RegExp, limitMs = 20_000): Promise<RegExpMatchArray> {
  await waitFor(() => pattern.test(log.text), `${pattern} in the log:\n${log.text}`, limitMs);
  return log.text.match(pattern)!;
}

test.each([
  ["http-01", "from source", []],
  ["tls-alpn-01", "the compiled binary", ["acme_challenge = tls-alpn-01"]],
])(
  "the workers answer the CA's %s check (%s), and each serves the certificate",
  async (type, how, extra) => {
    await stopAll();
    log.text = "";
    setup = await acmeSetup();
    const conf = join(setup.dir, "mantrid.conf");
    await writeFile(
      conf,
      [
        "bind = 127.0.0.1:0",
        "bind_tls = 127.0.0.1:0",
        "bind_management = 127.0.0.1:0",
        `state_file = ${join(setup.dir, "state.json")}`,
        `static_dir = ${setup.dir}`,
        `acme_directory = ${setup.config.acmeDirectory}`,
        `acme_ca_root = ${setup.trust.caFile}`,
        "workers = 2",
        ...extra,
      ].join("\n"),
    );
    const command = how === "from source" ? [process.execPath, `${SRC}/main.ts`] : [ensureBinary()];
    const child = Bun.spawn([...command, "serve", "-c", conf], {
      stdin: "ignore",
      stdout: "ignore",
      stderr: "pipe",
    });
    server = child;
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of child.stderr) log.text += decoder.decode(chunk);
    })();
    const plainPort = Number((await logged(/listening on 127\.0\.0\.1:(\d+)\n/))[1]);
    const tlsPort = Number((await logged(/listening on 127\.0\.0\.1:(\d+) \(TLS\)/))[1]);
    const api = (await logged(/management API on (http:\/\/[^\s]+?)\/?\s/))[1]!;
    // For tls-alpn-01 the CA's http-01 port leads nowhere: only the TLS listeners can prove the name.
    pebble = await setup.pebble({
      plain: type === "http-01" ? plainPort : freePort(),
      tls: tlsPort,
    });

    const put = await fetch(`${api}/hostname/${NAME}/`, {
      method: "PUT",
      body: JSON.stringify(["empty", { code: 204, tls: "auto" }, false]),
    });
    expect(put.status).toBe(200);
    await logged(/acme: certificate for workers\.mantrid\.test obtained/);
    if (type === "tls-alpn-01") {
      expect(log.text).toContain("answered the tls-alpn-01 check for workers.mantrid.test");
    }

    // Eight handshakes at once: the kernel spreads them over both workers.
    const root = await pebble.root();
    const leaves = await Promise.all([...Array(8)].map(() => served(tlsPort, NAME, root)));
    expect(leaves.every((leaf) => leaf.authorized)).toBe(true);
    expect(new Set(leaves.map((leaf) => leaf.serial)).size).toBe(1);
    expect(log.text).not.toContain("acme: cannot");
  },
);
