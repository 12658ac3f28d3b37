/**
 * The parts under an https backend, over real sockets: how it is written and
 * stored, the pool's TLS connections (handed out after the handshake, pooled
 * apart by how they were checked, closed on a drain), and health checks over TLS.
 */
import "../support/quiet.ts";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { BackendConnection } from "../../src/backend/connection.ts";
import { HealthCheck } from "../../src/backend/health-check.ts";
import { checkSettings } from "../../src/backend/health-checks.ts";
import { addressOf } from "../../src/backend/members.ts";
import { BackendPool } from "../../src/backend/pool.ts";
import { BackendStates, type CheckResult } from "../../src/backend/state.ts";
import { SYSTEM_CAS, type TlsVerification, verificationOf } from "../../src/backend/tls.ts";
import { parseRule } from "../../src/rules/schema.ts";
import { makeCa, type TestCa } from "../support/certificates.ts";
import { type TlsBackend, tlsBackend } from "../support/tls-backend.ts";

let ca: TestCa;
let backend: TlsBackend;
let trusting: TlsVerification;

beforeAll(async () => {
  ca = await makeCa();
  backend = tlsBackend(await ca.issue(["localhost"]));
  trusting = { ca: ca.cert, verify: true, id: "test-ca", refusal: null };
});
afterAll(() => backend.stop());

function backendsOf(input: unknown): unknown {
  const parsed = parseRule(["proxy", { backends: input }, false]);
  if (!parsed.ok) return parsed.problems[0]!.message;
  return parsed.value.action === "proxy" ? parsed.value.options.backends : null;
}

describe("written and stored", () => {
  test("https:// is kept in the stored address, 443 when no port is given; http:// is plain", () => {
    const tls = { weight: 1, backup: false, max_conns: 0 };
    expect(
      backendsOf("https://api.example.com:8443,https://API.example.com,http://b.test:81,c:82"),
    ).toEqual([
      { address: "https://api.example.com:8443", ...tls },
      { address: "https://API.example.com:443", ...tls },
      ["b.test", 81],
      ["c", 82],
    ]);
    expect(backendsOf(["https://[::1]:9443", "http://[::1]"])).toEqual([
      { address: "https://[::1]:9443", ...tls },
      ["::1", 80],
    ]);
    expect(backendsOf([{ address: "https://b.test:9443", weight: 3 }])).toEqual([
      { address: "https://b.test:9443", weight: 3, backup: false, max_conns: 0 },
    ]);
  });

  test("a bad https address says what is wrong", () => {
    expect(backendsOf("https://b.test:99999")).toBe("a port is 1 to 65535");
    expect(backendsOf("https://bad host:1")).toBe(
      "a backend host is a hostname, an IPv4 or an IPv6 address",
    );
    expect(backendsOf("ftp://b.test:21")).toContain("is not host:port");
  });

  test("its address: SNI for a name, none for an IP address; the pool key tells checks apart", () => {
    const named = addressOf({
      address: "https://b.test:9443",
      weight: 1,
      backup: false,
      max_conns: 0,
    });
    expect(named).toMatchObject({ host: "b.test", port: 9443, key: "https://b.test:9443" });
    expect(named.tls!.options).toEqual({ serverName: "b.test", rejectUnauthorized: true });
    expect(named.poolKey).toBe("https://b.test:9443 system");
    const ip = addressOf(
      { address: "https://[::1]:9443", weight: 1, backup: false, max_conns: 0 },
      verificationOf({ verify: false }),
    );
    expect(ip).toMatchObject({ host: "::1", port: 9443, key: "https://[::1]:9443" });
    expect(ip.tls!.options).toEqual({ rejectUnauthorized: false });
    expect(ip.poolKey).toBe("https://[::1]:9443 unverified");
    expect(addressOf(["b.test", 80])).toMatchObject({
      key: "b.test:80",
      tls: null,
      poolKey: "b.test:80",
    });
  });
});

describe("the pool", () => {
  const address = (verification: TlsVerification) =>
    addressOf(
      { address: `https://localhost:${backend.port}`, weight: 1, backup: false, max_conns: 0 },
      verification,
    );

  test("hands out a connection once its handshake succeeded, and reuses it", async () => {
    const pool = new BackendPool({ idleTimeout: 60, maxIdlePerBackend: 8 });
    const target = address(trusting);
    const connection = await pool.connect(target);
    if (!(connection instanceof BackendConnection)) throw new Error(connection.error);
    expect(connection.handshake).toBe("");
    expect(connection.key).toBe(`https://localhost:${backend.port}`);
    pool.give(connection);
    expect(pool.take(target.poolKey)).toBe(connection);
    expect(pool.take(address(SYSTEM_CAS).poolKey)).toBeNull();
    connection.close();
  });

  test("a failed check is a connect failure that says why", async () => {
    const pool = new BackendPool({ idleTimeout: 60, maxIdlePerBackend: 8 });
    const result = await pool.connect(address(SYSTEM_CAS));
    expect(result).toMatchObject({ error: expect.stringContaining("TLS certificate refused") });
    expect(pool.idleCount).toBe(0);
  });

  test("a drain closes the idle connections of every pool of the address", async () => {
    const pool = new BackendPool({ idleTimeout: 60, maxIdlePerBackend: 8 });
    const checked = await pool.connect(address(trusting));
    const unchecked = await pool.connect(address(verificationOf({ verify: false })));
    if (!(checked instanceof BackendConnection) || !(unchecked instanceof BackendConnection))
      throw new Error("no connection");
    pool.give(checked);
    pool.give(unchecked);
    expect(pool.closeIdle(`https://localhost:${backend.port}`)).toBe(2);
    expect(pool.idleCount).toBe(0);
    expect(checked.closed && unchecked.closed).toBe(true);
  });
});

describe("health checks", () => {
  const checkers: HealthCheck[] = [];
  afterEach(() => {
    for (const checker of checkers.splice(0)) checker.stop();
  });

  function firstResult(verification: TlsVerification): Promise<CheckResult> {
    const states = new BackendStates();
    const target = addressOf(
      { address: `https://localhost:${backend.port}`, weight: 1, backup: false, max_conns: 0 },
      verification,
    );
    const settings = checkSettings({ path: "/health", interval: 0.02, timeout: 2 })!;
    return new Promise((resolve) => {
      const checker = new HealthCheck(states, target, settings, resolve);
      checkers.push(checker);
      checker.start();
    });
  }

  test("an https backend is checked over TLS, with the Host of its host:port", async () => {
    const before = backend.requests.length;
    const result = await firstResult(trusting);
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(backend.requests[before]).toMatchObject({
      path: "/health",
      host: `localhost:${backend.port}`,
    });
  });

  test("a certificate the check does not trust fails the check, saying why", async () => {
    const result = await firstResult(SYSTEM_CAS);
    expect(result.ok).toBe(false);
    expect(result.error).toContain("TLS certificate refused");
  });

  test("with verify: false the check passes", async () => {
    expect(await firstResult(verificationOf({ verify: false }))).toMatchObject({ ok: true });
  });
});
