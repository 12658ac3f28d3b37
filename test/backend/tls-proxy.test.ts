/**
 * Backends written `https://host:port`, through the real server over real
 * sockets: reached over TLS and checked against the rule's `ca`, refused when
 * not trusted or named otherwise, reached unchecked with `verify: false`, and
 * their connections kept alive and reused.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TCPSocketListener } from "bun";
import { makeCa, type TestCa } from "../support/certificates.ts";
import { startMantrid, type TestMantrid } from "../support/mantrid.ts";
import { catchServerLog } from "../support/stderr.ts";
import { type TlsBackend, tlsBackend } from "../support/tls-backend.ts";
import { waitFor } from "../support/wait.ts";

const logged = catchServerLog();

let ca: TestCa;
let dir: string;
let caFile: string;
let mantrid: TestMantrid;
let backend: TlsBackend;
let misnamed: TlsBackend;
let silent: TCPSocketListener<undefined>;
let plainHttp: ReturnType<typeof Bun.serve>;

beforeAll(async () => {
  ca = await makeCa();
  dir = await mkdtemp(join(tmpdir(), "mantrid-tls-backend-"));
  caFile = join(dir, "ca.pem");
  await writeFile(caFile, ca.cert);
  backend = tlsBackend(await ca.issue(["localhost"]));
  misnamed = tlsBackend(await ca.issue(["other.test"]));
  // Accepts and never says a word: no handshake ever ends.
  silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  plainHttp = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("plain") });
  mantrid = await startMantrid({ connectTimeout: 2 });
});
afterAll(async () => {
  await mantrid.stop();
  await backend.stop();
  await misnamed.stop();
  silent.stop(true);
  await plainHttp.stop(true);
  await rm(dir, { recursive: true, force: true });
});

async function get(host: string, path = "/"): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${mantrid.port}${path}`, {
    headers: { Host: host },
  });
  return { status: response.status, body: await response.text() };
}

function put(host: string, options: Record<string, unknown>): Promise<Response> {
  return fetch(`${mantrid.url}/hostname/${host}/`, {
    method: "PUT",
    body: JSON.stringify(["proxy", options, false]),
  });
}

const warnings = (text: string) => logged.filter((line) => line.includes(text));

describe("a backend whose certificate the rule's ca signed", () => {
  test("is reached over TLS; the Host header is the client's", async () => {
    await mantrid.set("trusted.test", [
      "proxy",
      { backends: [`https://localhost:${backend.port}`], ca: caFile },
      false,
    ]);
    const before = backend.requests.length;
    expect(await get("trusted.test", "/over")).toEqual({ status: 200, body: "over tls" });
    expect(backend.requests.slice(before)).toMatchObject([{ path: "/over", host: "trusted.test" }]);
  });

  test("keeps its connection alive: several requests, one TLS connection", async () => {
    const own = tlsBackend(await ca.issue(["localhost"]), "reused");
    try {
      await mantrid.set("reuse.test", [
        "proxy",
        { backends: [`https://localhost:${own.port}`], ca: caFile },
        false,
      ]);
      for (let i = 0; i < 5; i++)
        expect(await get("reuse.test")).toEqual({ status: 200, body: "reused" });
      expect(own.requests.length).toBe(5);
      expect(own.requests.every((request) => request.clientPort > 0)).toBe(true);
      expect(own.connections()).toBe(1);
    } finally {
      await own.stop();
    }
  });
});

describe("health checks of a rule", () => {
  test("reach an https backend over TLS with the rule's ca", async () => {
    const own = tlsBackend(await ca.issue(["localhost"]), "healthy");
    try {
      const key = `https://localhost:${own.port}`;
      await mantrid.set("checked.test", [
        "proxy",
        { backends: [key], ca: caFile, health: { path: "/health", interval: 0.05 } },
        false,
      ]);
      await waitFor(
        () => own.requests.some((request) => request.path === "/health"),
        "a health check request",
      );
      const view = await (await fetch(`${mantrid.url}/backend/${encodeURIComponent(key)}/`)).json();
      expect(view).toMatchObject({ state: "up", check: { ok: true, status: 200 } });
    } finally {
      await mantrid.set("checked.test", ["empty", { code: 204 }, false]);
      await own.stop();
    }
  });
});

describe("refused", () => {
  test("not trusted (the system's CAs): 502, nothing reaches it, one clear line in the log", async () => {
    await mantrid.set("untrusted.test", [
      "proxy",
      { backends: [`https://localhost:${backend.port}`] },
      false,
    ]);
    const before = backend.requests.length;
    expect((await get("untrusted.test")).status).toBe(502);
    expect((await get("untrusted.test")).status).toBe(502);
    expect(backend.requests.length).toBe(before);
    const lines = warnings(`backend https://localhost:${backend.port} cannot be connected to`);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      "TLS certificate refused: self signed certificate in certificate chain",
    );
  });

  test("a certificate for another name: 502, even though the ca signed it", async () => {
    await mantrid.set("misnamed.test", [
      "proxy",
      { backends: [`https://localhost:${misnamed.port}`], ca: caFile },
      false,
    ]);
    expect((await get("misnamed.test")).status).toBe(502);
    expect(misnamed.requests).toHaveLength(0);
    const [line] = warnings(`backend https://localhost:${misnamed.port} cannot be connected to`);
    expect(line).toContain("TLS certificate refused");
    expect(line).toContain("DNS:other.test");
  });

  test("a plain HTTP server named https://: 502, the handshake failed", async () => {
    await mantrid.set("not-tls.test", [
      "proxy",
      { backends: [`https://localhost:${plainHttp.port}`] },
      false,
    ]);
    expect((await get("not-tls.test")).status).toBe(502);
    const [line] = warnings(`backend https://localhost:${plainHttp.port} cannot be connected to`);
    expect(line).toContain("TLS handshake failed");
  });

  test("a backend that never finishes the handshake: 504 once connect_timeout is over", async () => {
    await mantrid.set("silent.test", [
      "proxy",
      { backends: [`https://localhost:${silent.port}`] },
      false,
    ]);
    expect((await get("silent.test")).status).toBe(504);
  });
});

describe("verify: false", () => {
  test("reaches an untrusted backend, with a loud warning naming the rule at each change", async () => {
    const before = backend.requests.length;
    await mantrid.set("unchecked.test", [
      "proxy",
      { backends: [`https://localhost:${backend.port}`], verify: false },
      false,
    ]);
    expect(await get("unchecked.test")).toEqual({ status: 200, body: "over tls" });
    expect(await get("unchecked.test")).toEqual({ status: 200, body: "over tls" });
    expect(backend.requests.length).toBe(before + 2);
    const warning = "rule unchecked.test has verify: false";
    expect(warnings(warning)).toHaveLength(1);
    expect(warnings(warning)[0]).toContain("warn");
    expect(warnings(warning)[0]).toContain("NOT checked");
    await mantrid.set("unchecked.test", [
      "proxy",
      { backends: [`https://localhost:${backend.port}`], verify: "false", attempts: 2 },
      false,
    ]);
    expect(warnings(warning)).toHaveLength(2);
  });

  test("a whole rule set: one line per rule, naming its first host and how many more", async () => {
    const rule = [
      "proxy",
      { backends: [`https://localhost:${backend.port}`], verify: false },
      false,
    ];
    const response = await fetch(`${mantrid.url}/hostname/`, {
      method: "PUT",
      body: JSON.stringify({
        "a.test": rule,
        "b.test": rule,
        "c.test": ["empty", { code: 204 }, false],
      }),
    });
    expect(response.status).toBe(200);
    expect(warnings("has verify: false")).toHaveLength(1);
    expect(warnings("rule a.test (and 1 more) has verify: false")).toHaveLength(1);
  });

  test("an untrusted connection is never reused by a rule that checks", async () => {
    const own = tlsBackend(await ca.issue(["localhost"]), "shared");
    try {
      const address = `https://localhost:${own.port}`;
      await mantrid.set("loose.test", ["proxy", { backends: [address], verify: false }, false]);
      await mantrid.set("strict.test", ["proxy", { backends: [address] }, false]);
      expect((await get("loose.test")).status).toBe(200);
      expect((await get("strict.test")).status).toBe(502);
      expect(own.requests).toHaveLength(1);
    } finally {
      await own.stop();
    }
  });
});

describe("the ca option", () => {
  async function refused(ca: string): Promise<{ path: string[]; message: string }> {
    const response = await put("bad-ca.test", {
      backends: [`https://localhost:${backend.port}`],
      ca,
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { issues: { path: string[]; message: string }[] };
    expect((await fetch(`${mantrid.url}/hostname/bad-ca.test/`)).status).toBe(404);
    return body.issues[0]!;
  }

  test("a missing file: 400 naming the field and the file, nothing set", async () => {
    const missing = join(dir, "missing.pem");
    const issue = await refused(missing);
    expect(issue.path).toEqual(["options", "ca"]);
    expect(issue.message).toBe(`ca file ${missing} cannot be read: does not exist`);
  });

  test("a file with no certificate in it: 400 naming it", async () => {
    const garbage = join(dir, "garbage.pem");
    await writeFile(garbage, "not a certificate at all\n");
    expect((await refused(garbage)).message).toBe(`ca file ${garbage} holds no PEM certificate`);
  });

  test("a certificate block that does not decode: 400 naming it", async () => {
    const broken = join(dir, "broken.pem");
    await writeFile(
      broken,
      `${ca.cert}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`,
    );
    expect((await refused(broken)).message).toStartWith(
      `ca file ${broken}: certificate 2 does not parse`,
    );
  });
});
