/**
 * TLS clients for tests, over real sockets: `openssl s_client` and `curl` as
 * a person would run them, and a `node:tls` client that keeps its connection
 * (keep-alive, WebSocket, a reader that stops reading).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import type { Certificate } from "../../src/tls/certificate.ts";
import { makeCa, type Pem, type TestCa } from "../support/certificates.ts";

export interface CaFiles {
  ca: TestCa;
  /** The CA certificate as a file, for curl and openssl. */
  caFile: string;
  issue(names: string[]): Promise<Pem>;
  remove(): Promise<void>;
}

export async function caFiles(): Promise<CaFiles> {
  const ca = await makeCa();
  const dir = await mkdtemp(join(tmpdir(), "mantrid-tls-"));
  const caFile = join(dir, "ca.pem");
  await writeFile(caFile, ca.cert);
  return {
    ca,
    caFile,
    issue: (names) => ca.issue(names),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A test CA's certificate for `name` as the catalog holds one, valid for an hour. */
export function catalogEntry(
  name: string,
  pem: Pem,
  source: Certificate["source"] = "api",
): Certificate {
  return {
    name,
    cert: pem.chain,
    key: pem.key,
    source,
    notBefore: 0,
    notAfter: Date.now() + 3_600_000,
    issuer: "CN=Mantrid Test CA",
    names: [name],
  };
}

/** PUTs a certificate through the management API; throws on any answer but 200. */
export async function putCertificate(apiUrl: string, name: string, pem: Pem): Promise<void> {
  const response = await fetch(`${apiUrl}/certificate/${encodeURIComponent(name)}`, {
    method: "PUT",
    body: JSON.stringify({ cert: pem.chain, key: pem.key }),
  });
  if (response.status !== 200) {
    throw new Error(`PUT certificate ${name}: ${response.status} ${await response.text()}`);
  }
}

export interface Handshake {
  /** The served leaf's subject CN, or null when the handshake failed. */
  subject: string | null;
  /** OpenSSL's line naming the alert the server sent, or null. */
  alert: string | null;
  output: string;
}

async function run(command: string[], input = ""): Promise<{ code: number; output: string }> {
  const child = Bun.spawn(command, { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  child.stdin.write(input);
  await child.stdin.end();
  const timer = setTimeout(() => child.kill(), 10_000);
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  clearTimeout(timer);
  return { code, output: stdout + stderr };
}

/** `openssl s_client` with `servername` (null: no SNI at all). */
export async function sClient(
  port: number,
  servername: string | null,
  extra: string[] = [],
  /** Sent once connected; with `-ign_eof` it reads until the server closes. */
  input = "",
): Promise<Handshake> {
  const sni = servername === null ? ["-noservername"] : ["-servername", servername];
  const command = ["openssl", "s_client", "-connect", `127.0.0.1:${port}`, ...sni, ...extra];
  const { output } = await run(command, input);
  const subject = /^subject=.*CN\s*=\s*([^,\n]+)/m.exec(output)?.[1]?.trim() ?? null;
  const alert = /alert ([a-z ]+?)(?::|$)/m.exec(output)?.[1] ?? null;
  return { subject, alert, output };
}

export interface CurlAnswer {
  code: number;
  status: number;
  body: string;
  output: string;
}

/** `curl --resolve name:port:127.0.0.1 --cacert ca.pem https://name:port<path>`. */
export async function curlHttps(
  name: string,
  port: number,
  caFile: string,
  path = "/",
  extra: string[] = [],
): Promise<CurlAnswer> {
  const { code, output } = await run([
    "curl",
    "-sS",
    "--resolve",
    `${name}:${port}:127.0.0.1`,
    "--cacert",
    caFile,
    "-w",
    "\n%{http_code}",
    ...extra,
    `https://${name}:${port}${path}`,
  ]);
  const lines = output.split("\n");
  const status = Number(lines.at(-1));
  return { code, status, body: lines.slice(0, -1).join("\n"), output };
}

export interface TlsClient {
  socket: TLSSocket;
  /** The served leaf's subject CN. */
  subject: string;
  send(text: string): void;
  /** Resolves once what has arrived satisfies `predicate`. */
  until(predicate: (received: string) => boolean): Promise<string>;
  received(): string;
  /** Forgets what has arrived so far. */
  clear(): void;
  /** Resolves when the server closes the connection. */
  closed: Promise<void>;
}

export function tlsClient(port: number, servername: string, ca: string): Promise<TlsClient> {
  let text = "";
  let waiters: { predicate: (t: string) => boolean; resolve: (t: string) => void }[] = [];
  const { promise: closed, resolve: onClose } = Promise.withResolvers<void>();
  const check = () => {
    waiters = waiters.filter((waiter) => {
      if (!waiter.predicate(text)) return true;
      waiter.resolve(text);
      return false;
    });
  };
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: "127.0.0.1", port, servername, ca }, () => {
      resolve({
        socket,
        subject: String(socket.getPeerCertificate().subject?.CN),
        send: (data) => socket.write(data),
        until: (predicate) =>
          predicate(text)
            ? Promise.resolve(text)
            : new Promise((done) => waiters.push({ predicate, resolve: done })),
        received: () => text,
        clear: () => {
          text = "";
        },
        closed,
      });
    });
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      text += chunk;
      check();
    });
    socket.on("error", reject);
    socket.on("close", () => {
      onClose();
      for (const waiter of waiters) waiter.resolve(text);
      waiters = [];
    });
  });
}

/** Complete responses in `text` (Content-Length framing only, as the tests' backends send). */
export function responseCount(text: string): number {
  let count = 0;
  let at = 0;
  for (;;) {
    const end = text.indexOf("\r\n\r\n", at);
    if (end < 0) return count;
    const length = /content-length:\s*(\d+)/i.exec(text.slice(at, end))?.[1];
    const next = end + 4 + Number(length ?? 0);
    if (next > text.length) return count;
    count++;
    at = next;
  }
}
