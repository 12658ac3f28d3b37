/**
 * `workers = 2` with a `bind_tls` listener, run from source: the certificates
 * the primary holds reach both workers, a changed one too, and a worker that
 * restarts gets them all with its start.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { connect as tlsConnect } from "node:tls";
import type { Subprocess } from "bun";
import { httpBackend, type TestBackend } from "../support/backend.ts";
import { waitFor } from "../support/wait.ts";
import { serveArgs } from "../takeover/servers.ts";
import { type CaFiles, caFiles, curlHttps, putCertificate, sClient } from "../tls/harness.ts";

const MAIN = resolve(import.meta.dir, "../../src/main.ts");

let files: CaFiles;
let dir: string;
let server: Subprocess<"ignore", "ignore", "pipe">;
let log = "";
let api: string;
let port: number;
let pids: number[];
let backend: TestBackend;

async function logMatch(pattern: RegExp): Promise<RegExpMatchArray> {
  await waitFor(() => pattern.test(log), `${pattern} in the server log`, 20_000);
  return pattern.exec(log)!;
}

beforeAll(async () => {
  files = await caFiles();
  dir = await mkdtemp(join(tmpdir(), "mantrid-tls-workers-"));
  server = Bun.spawn(
    [
      process.execPath,
      MAIN,
      "serve",
      ...serveArgs(dir, ["--workers", "2", "--bind-tls", "127.0.0.1:0"]),
    ],
    { stdin: "ignore", stdout: "ignore", stderr: "pipe" },
  );
  (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of server.stderr) log += decoder.decode(chunk);
  })();
  port = Number((await logMatch(/listening on 127\.0\.0\.1:(\d+) \(TLS\)/))[1]);
  api = (await logMatch(/management API on (http:\/\/\S+?)\/?\s/))[1]!;
  const workers = await logMatch(/2 workers: pids (\d+), (\d+)/);
  pids = [Number(workers[1]), Number(workers[2])];
  backend = await httpBackend((request, response) =>
    response.end(`proto=${request.headers["x-forwarded-proto"]}`),
  );
  const rule = ["proxy", { backends: [`127.0.0.1:${backend.port}`] }, false];
  const set = await fetch(`${api}/hostname/app.test`, {
    method: "PUT",
    body: JSON.stringify(rule),
  });
  expect(set.status).toBe(200);
});
afterAll(async () => {
  server.kill("SIGTERM");
  await server.exited;
  await backend.close();
  await files.remove();
  await rm(dir, { recursive: true, force: true });
});

/** The serial numbers served to `count` handshakes for `name` (spread over both workers). */
async function serials(name: string, count: number): Promise<Set<string>> {
  const seen = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<string>((done) => {
          const socket = tlsConnect({
            host: "127.0.0.1",
            port,
            servername: name,
            ca: files.ca.cert,
          });
          socket.on("secureConnect", () => {
            done(socket.getPeerCertificate().serialNumber);
            socket.destroy();
          });
          socket.on("error", (error) => done(`error: ${error.message}`));
        }),
    ),
  );
  return new Set(seen);
}

const serialOf = (pem: string) => new X509Certificate(pem).serialNumber;

test("a certificate set through the API is served by both workers once it answers, and its change too", async () => {
  // The API answers once every worker has the certificate: the next handshakes all get it.
  const first = await files.issue(["app.test"]);
  await putCertificate(api, "app.test", first);
  expect(await serials("app.test", 40)).toEqual(new Set([serialOf(first.leaf)]));

  const second = await files.issue(["app.test"]);
  await putCertificate(api, "app.test", second);
  expect(await serials("app.test", 40)).toEqual(new Set([serialOf(second.leaf)]));
  expect((await sClient(port, "app.test")).subject).toBe("app.test");
});

test("proxied over TLS in a worker, the backend hears https", async () => {
  const answer = await curlHttps("app.test", port, files.caFile);
  expect(answer.status).toBe(200);
  expect(answer.body).toBe("proto=https");
});

test("a worker that restarts gets every certificate with its start", async () => {
  const current = await serials("app.test", 1);
  process.kill(pids[0]!, "SIGKILL");
  await logMatch(/worker 1 restarted/);
  expect(await serials("app.test", 40)).toEqual(current);
});
