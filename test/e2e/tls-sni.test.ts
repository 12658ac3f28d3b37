/**
 * Certificates chosen by SNI on a `bind_tls` listener, seen by `openssl
 * s_client` and `curl`: each name its own, wildcards one label deep, the
 * default for unknown names and for no SNI, a refusal without one.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import "../support/quiet.ts";
import { parseAddress } from "../../src/config/address.ts";
import { startMantrid, type TestMantrid } from "../support/mantrid.ts";
import { type CaFiles, caFiles, curlHttps, putCertificate, sClient } from "../tls/harness.ts";

let files: CaFiles;
let withDefault: TestMantrid;
let noDefault: TestMantrid;
const tlsPort = (mantrid: TestMantrid) => mantrid.running.ports.tls[0]!;

beforeAll(async () => {
  files = await caFiles();
  const bindTls = [parseAddress("127.0.0.1:0")];
  withDefault = await startMantrid({ bindTls, tlsDefault: "fallback.test" });
  noDefault = await startMantrid({ bindTls });
  for (const mantrid of [withDefault, noDefault]) {
    await putCertificate(mantrid.url, "a.test", await files.issue(["a.test"]));
    await putCertificate(mantrid.url, "b.test", await files.issue(["b.test"]));
    await putCertificate(mantrid.url, "*.wild.test", await files.issue(["*.wild.test"]));
    await mantrid.set("a.test", ["static", { type: "test" }, true]);
    await mantrid.set("b.test", ["empty", { code: 204 }, false]);
  }
  await putCertificate(withDefault.url, "fallback.test", await files.issue(["fallback.test"]));
});
afterAll(async () => {
  await withDefault.stop();
  await noDefault.stop();
  await files.remove();
});

describe("each name gets its own certificate", () => {
  test("openssl s_client sees the subject of the name it asked for", async () => {
    const port = tlsPort(withDefault);
    expect((await sClient(port, "a.test")).subject).toBe("a.test");
    expect((await sClient(port, "b.test")).subject).toBe("b.test");
    // SNI is case-insensitive.
    expect((await sClient(port, "B.Test")).subject).toBe("b.test");
  });

  test("curl verifies each against the CA and gets the rule's answer", async () => {
    const port = tlsPort(withDefault);
    const a = await curlHttps("a.test", port, files.caFile);
    expect(a.code).toBe(0);
    expect(a.status).toBe(200);
    expect(a.body).toContain("Congratulations");
    const b = await curlHttps("b.test", port, files.caFile);
    expect(b.code).toBe(0);
    expect(b.status).toBe(204);
  });

  test("a wildcard covers one label below it, not two, not its own name", async () => {
    const port = tlsPort(noDefault);
    expect((await sClient(port, "x.wild.test")).subject).toBe("*.wild.test");
    const two = await sClient(port, "y.x.wild.test");
    expect(two.subject).toBeNull();
    expect(two.alert).toBe("handshake failure");
    expect((await sClient(port, "wild.test")).subject).toBeNull();
    const curl = await curlHttps("x.wild.test", port, files.caFile);
    expect(curl.code).toBe(0);
    // No rule for x.wild.test: the unknown page, over a verified connection.
    expect(curl.status).toBe(503);
  });
});

describe("names without a certificate", () => {
  test("an unknown name and a client without SNI get tls_default", async () => {
    const port = tlsPort(withDefault);
    expect((await sClient(port, "nobody.test")).subject).toBe("fallback.test");
    expect((await sClient(port, null)).subject).toBe("fallback.test");
  });

  test("with no default they are refused with an alert, and the listener serves on", async () => {
    const port = tlsPort(noDefault);
    const unknown = await sClient(port, "nobody.test");
    expect(unknown.subject).toBeNull();
    expect(unknown.alert).toBe("handshake failure");
    const none = await sClient(port, null);
    expect(none.subject).toBeNull();
    expect(none.alert).toBe("handshake failure");
    const curl = await curlHttps("nobody.test", port, files.caFile);
    expect(curl.code).not.toBe(0);
    expect((await sClient(port, "a.test")).subject).toBe("a.test");
    expect((await curlHttps("a.test", port, files.caFile)).status).toBe(200);
  });

  test("the default certificate set after start serves from the next handshake", async () => {
    const port = tlsPort(noDefault);
    const late = await startMantrid({
      bindTls: [parseAddress("127.0.0.1:0")],
      tlsDefault: "late.test",
    });
    try {
      const latePort = tlsPort(late);
      expect((await sClient(latePort, null)).alert).toBe("handshake failure");
      await putCertificate(late.url, "late.test", await files.issue(["late.test"]));
      expect((await sClient(latePort, null)).subject).toBe("late.test");
      expect((await sClient(latePort, "other.test")).subject).toBe("late.test");
    } finally {
      await late.stop();
    }
    expect((await sClient(port, "a.test")).subject).toBe("a.test");
  });
});

describe("protocol", () => {
  test("TLS 1.2 and 1.3 are served, 1.1 is refused", async () => {
    const port = tlsPort(withDefault);
    expect((await sClient(port, "a.test", ["-tls1_3"])).output).toContain("TLSv1.3");
    expect((await sClient(port, "a.test", ["-tls1_2"])).output).toContain("TLSv1.2");
    const old = await sClient(port, "a.test", ["-tls1_1"]);
    expect(old.subject).toBeNull();
  });

  test("ALPN offers http/1.1 only", async () => {
    const port = tlsPort(withDefault);
    const h1 = await sClient(port, "a.test", ["-alpn", "h2,http/1.1"]);
    expect(h1.output).toContain("ALPN protocol: http/1.1");
  });

  test("a session resumes from its ticket", async () => {
    const port = tlsPort(withDefault);
    const session = `${files.caFile}.session`;
    // TLS 1.3 tickets come after the handshake: a whole request makes sure they have arrived.
    const request = "GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n";
    for (const version of ["-tls1_2", "-tls1_3"]) {
      const first = await sClient(
        port,
        "a.test",
        [version, "-ign_eof", "-sess_out", session],
        request,
      );
      expect(first.output).toMatch(/^New,/m);
      expect(first.output).toContain("Congratulations");
      const again = await sClient(
        port,
        "a.test",
        [version, "-ign_eof", "-sess_in", session],
        request,
      );
      expect(again.output).toMatch(/^Reused,/m);
    }
  });
});

describe("configuration", () => {
  test("tls_min_version = TLSv1.3 refuses TLS 1.2", async () => {
    const strict = await startMantrid({
      bindTls: [parseAddress("127.0.0.1:0")],
      tlsMinVersion: "TLSv1.3",
    });
    try {
      await putCertificate(strict.url, "a.test", await files.issue(["a.test"]));
      const port = tlsPort(strict);
      expect((await sClient(port, "a.test", ["-tls1_3"])).subject).toBe("a.test");
      expect((await sClient(port, "a.test", ["-tls1_2"])).subject).toBeNull();
    } finally {
      await strict.stop();
    }
  });

  test("tls_ciphers orders and limits the TLS 1.2 ciphers; one OpenSSL refuses stops the start", async () => {
    const chosen = await startMantrid({
      bindTls: [parseAddress("127.0.0.1:0")],
      tlsCiphers: "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305",
    });
    try {
      await putCertificate(chosen.url, "a.test", await files.issue(["a.test"]));
      // The client prefers ChaCha20; the server's order wins.
      const cipher = "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256";
      const both = await sClient(tlsPort(chosen), "a.test", ["-tls1_2", "-cipher", cipher]);
      expect(both.output).toContain("Cipher is ECDHE-ECDSA-AES128-GCM-SHA256");
      const other = "ECDHE-ECDSA-AES256-GCM-SHA384";
      const none = await sClient(tlsPort(chosen), "a.test", ["-tls1_2", "-cipher", other]);
      expect(none.subject).toBeNull();
    } finally {
      await chosen.stop();
    }
    const bad = startMantrid({
      bindTls: [parseAddress("127.0.0.1:0")],
      tlsCiphers: "NO-SUCH-CIPHER",
    });
    await expect(bad).rejects.toThrow(/^tls_ciphers: /);
  });

  test("a bind_tls address in use stops the start with a line naming the key", async () => {
    const taken = tlsPort(withDefault);
    const second = startMantrid({ bindTls: [parseAddress(`127.0.0.1:${taken}`)] });
    await expect(second).rejects.toThrow(
      `cannot listen on 127.0.0.1:${taken} (the address is in use): change bind_tls or --bind-tls`,
    );
  });
});
