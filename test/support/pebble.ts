/**
 * Pebble, the ACME test CA (Debian's `pebble` package), on free ports of
 * 127.0.0.1, with `pebble-challtestsrv` as its DNS server (only its DNS part),
 * which answers every name with 127.0.0.1: so the CA's http-01 check really
 * reaches the server under test on 127.0.0.1. Debian's pebble ships no
 * certificate of its own; one is made here from a test CA, which the server
 * under test is given as `acme_ca_root`.
 */
import { afterAll } from "bun:test";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { makeCa } from "./certificates.ts";

/** The HTTPS identity of Pebble: made once, kept across restarts of the CA. */
export interface PebbleTrust {
  /** PEM file of the CA that signed Pebble's HTTPS certificate: `acme_ca_root`. */
  readonly caFile: string;
  readonly ca: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export async function makePebbleTrust(dir: string): Promise<PebbleTrust> {
  const ca = await makeCa("Pebble HTTPS Test CA");
  const leaf = await ca.issue(["localhost"]);
  const trust = {
    caFile: join(dir, "pebble-https-ca.pem"),
    ca: ca.cert,
    certFile: join(dir, "pebble-https.pem"),
    keyFile: join(dir, "pebble-https.key"),
  };
  await writeFile(trust.caFile, ca.cert);
  await writeFile(trust.certFile, leaf.chain);
  await writeFile(trust.keyFile, leaf.key);
  return trust;
}

export interface PebbleOptions {
  readonly trust: PebbleTrust;
  readonly dir: string;
  /** The port of the ACME API: the same across restarts keeps the directory URL. */
  readonly port: number;
  /** Where the CA connects for http-01: the server's plain listener. */
  readonly httpPort: number;
  /** Where the CA connects for tls-alpn-01. */
  readonly tlsPort?: number;
  /** Lifetime of the certificates it issues; Pebble's default is five years. */
  readonly validitySeconds?: number;
}

export interface Pebble {
  /** The ACME directory URL: `acme_directory`. */
  readonly directory: string;
  /** Pebble's issuing root (it makes a new one each start), to check served chains with. */
  root(): Promise<string>;
  /** Everything both programs printed, for a failing test's message. */
  output(): string;
  stop(): Promise<void>;
}

/** The URL the CA will answer on once started on `port`. */
export function directoryUrl(port: number): string {
  return `https://localhost:${port}/dir`;
}

/** A port of 127.0.0.1 that was free a moment ago. */
export function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = probe;
  probe.stop(true);
  return port;
}

const running = new Set<Subprocess>();
// A test that throws before its own cleanup must not leave a CA behind.
afterAll(() => {
  for (const child of running) child.kill();
});
process.on("exit", () => {
  for (const child of running) child.kill();
});

const START_LIMIT_MS = 15_000;

export async function startPebble(options: PebbleOptions): Promise<Pebble> {
  const dnsPort = freePort();
  const managementPort = freePort();
  const dns = spawn(
    [
      "pebble-challtestsrv",
      "-defaultIPv4",
      "127.0.0.1",
      "-defaultIPv6",
      "",
      "-dns01",
      `127.0.0.1:${dnsPort}`,
      "-http01",
      "",
      "-https01",
      "",
      "-tlsalpn01",
      "",
      "-management",
      `127.0.0.1:${freePort()}`,
    ],
    {},
  );
  const config = join(options.dir, `pebble-${options.port}.json`);
  await writeFile(
    config,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${options.port}`,
        managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate: options.trust.certFile,
        privateKey: options.trust.keyFile,
        httpPort: options.httpPort,
        tlsPort: options.tlsPort ?? freePort(),
        ocspResponderURL: "",
        externalAccountBindingRequired: false,
        ...(options.validitySeconds === undefined
          ? {}
          : { certificateValidityPeriod: options.validitySeconds }),
      },
    }),
  );
  let pebble: Started | null = null;
  try {
    await dns.waitFor(/Starting management server/);
    pebble = spawn(["pebble", "-config", config, "-dnsserver", `127.0.0.1:${dnsPort}`], {
      // No random sleeps before checks, no rejected nonces, a new authorization each order.
      PEBBLE_VA_NOSLEEP: "1",
      PEBBLE_WFE_NONCEREJECT: "0",
      PEBBLE_AUTHZREUSE: "0",
    });
    await pebble.waitFor(/ACME directory available at/);
  } catch (error) {
    await dns.stop();
    await pebble?.stop();
    throw error;
  }
  const started = pebble;
  return {
    directory: directoryUrl(options.port),
    async root() {
      const response = await fetch(`https://localhost:${managementPort}/roots/0`, {
        tls: { ca: options.trust.ca },
      });
      if (!response.ok) throw new Error(`pebble root: ${response.status}`);
      return response.text();
    },
    output: () => `${dns.output()}\n${started.output()}`,
    async stop() {
      await started.stop();
      await dns.stop();
    },
  };
}

interface Started {
  /** Resolves when a line of the output matches; rejects if the program ends first, or at the deadline. */
  waitFor(line: RegExp): Promise<void>;
  output(): string;
  stop(): Promise<void>;
}

function spawn(command: string[], env: Record<string, string>): Started {
  const child = Bun.spawn(command, {
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  running.add(child);
  let text = "";
  const waiters = new Set<() => void>();
  const read = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      for (const waiter of waiters) waiter();
    }
  };
  void read(child.stdout);
  void read(child.stderr);
  return {
    waitFor(line) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!line.test(text)) return;
          finish();
          resolve();
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`${command[0]} did not print ${line} in time:\n${text}`));
        }, START_LIMIT_MS);
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        void child.exited.then((code) => {
          finish();
          reject(new Error(`${command[0]} ended (${code}) before ${line}:\n${text}`));
        });
        check();
      });
    },
    output: () => text,
    async stop() {
      child.kill();
      await child.exited;
      running.delete(child);
    },
  };
}
