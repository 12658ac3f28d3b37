/**
 * Requests on a `bind_tls` listener are https: proxied with X-Forwarded-Proto
 * https, matched by `https://` rules first, redirected to https. A certificate
 * changed under open connections: the next handshake gets the new one, an open
 * keep-alive connection and a WebSocket go on with theirs.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import "../support/quiet.ts";
import type { Server } from "bun";
import { parseAddress } from "../../src/config/address.ts";
import { httpBackend, type TestBackend } from "../support/backend.ts";
import { startMantrid, type TestMantrid } from "../support/mantrid.ts";
import { connect, parseResponses } from "../support/wire.ts";
import {
  type CaFiles,
  caFiles,
  curlHttps,
  putCertificate,
  responseCount,
  sClient,
  tlsClient,
} from "../tls/harness.ts";

let files: CaFiles;
let mantrid: TestMantrid;
let backend: TestBackend;
let echo: Server<undefined>;
let port: number;

beforeAll(async () => {
  files = await caFiles();
  mantrid = await startMantrid({ bindTls: [parseAddress("127.0.0.1:0")] });
  port = mantrid.running.ports.tls[0]!;
  backend = await httpBackend((request, response) => {
    response.setHeader("Content-Type", "text/plain");
    response.end(`proto=${request.headers["x-forwarded-proto"]} url=${request.url}`);
  });
  echo = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (request, server) => (server.upgrade(request) ? undefined : new Response("plain")),
    websocket: { message: (ws, message) => void ws.send(`echo: ${message}`) },
  });
  const backends = [`127.0.0.1:${backend.port}`];
  await mantrid.set("app.test", ["proxy", { backends }, false]);
  await mantrid.set("https://split.test", ["empty", { code: 204 }, false]);
  await mantrid.set("split.test", ["empty", { code: 202 }, false]);
  await mantrid.set("go.test", ["redirect", { redirect_to: "target.test" }, false]);
  await mantrid.set("ws.test", ["proxy", { backends: [`127.0.0.1:${echo.port}`] }, false]);
  for (const name of ["app.test", "split.test", "go.test", "ws.test"]) {
    await putCertificate(mantrid.url, name, await files.issue([name]));
  }
});
afterAll(async () => {
  await mantrid.stop();
  await backend.close();
  echo.stop(true);
  await files.remove();
});

describe("requests over TLS are https", () => {
  test("proxied to a real backend with X-Forwarded-Proto: https, whatever the client said", async () => {
    const answer = await curlHttps("app.test", port, files.caFile, "/path?q=1", [
      "-H",
      "X-Forwarded-Proto: http",
    ]);
    expect(answer.status).toBe(200);
    expect(answer.body).toBe("proto=https url=/path?q=1");
    expect(backend.requests.at(-1)!.rawHeaders.filter((h) => /^https?$/.test(h))).toEqual([
      "https",
    ]);
    // The same backend through the plain listener still hears http.
    const plain = await connect(mantrid.port);
    plain.send("GET / HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n");
    expect(parseResponses(await plain.closed)[0]!.body.toString()).toBe("proto=http url=/");
  });

  test("an https:// rule is matched before the bare one", async () => {
    expect((await curlHttps("split.test", port, files.caFile)).status).toBe(204);
    const plain = await connect(mantrid.port);
    plain.send("GET / HTTP/1.1\r\nHost: split.test\r\nConnection: close\r\n\r\n");
    expect(parseResponses(await plain.closed)[0]!.status).toBe(202);
  });

  test("a redirect without a scheme keeps https", async () => {
    const answer = await curlHttps("go.test", port, files.caFile, "/x", ["-D", "-"]);
    expect(answer.status).toBe(302);
    expect(answer.body).toMatch(/^location: https:\/\/target\.test\/x\r?$/im);
  });
});

describe("a certificate changed under open connections", () => {
  test("the next handshake gets the new one; an open keep-alive connection carries on", async () => {
    const client = await tlsClient(port, "app.test", files.ca.cert);
    expect(client.subject).toBe("app.test");
    client.send("GET /1 HTTP/1.1\r\nHost: app.test\r\n\r\n");
    await client.until((text) => responseCount(text) === 1);
    const before = client.socket.getPeerCertificate().serialNumber;

    await putCertificate(mantrid.url, "app.test", await files.issue(["app.test", "new.app.test"]));
    const fresh = await tlsClient(port, "app.test", files.ca.cert);
    const after = fresh.socket.getPeerCertificate();
    expect(after.serialNumber).not.toBe(before);
    expect(after.subjectaltname).toContain("new.app.test");
    fresh.socket.destroy();

    client.send("GET /2 HTTP/1.1\r\nHost: app.test\r\n\r\n");
    const text = await client.until((received) => responseCount(received) === 2);
    expect(text).toContain("url=/2");
    expect(client.socket.getPeerCertificate().serialNumber).toBe(before);
    client.socket.destroy();
  });

  test("a WebSocket over TLS stays up and keeps working", async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${port}/chat`, {
      headers: { Host: "ws.test" },
      tls: { ca: files.ca.cert, servername: "ws.test" },
    } as never);
    const messages: string[] = [];
    let arrived: (() => void) | null = null;
    ws.onmessage = (event) => {
      messages.push(String(event.data));
      arrived?.();
    };
    const next = async (count: number) => {
      while (messages.length < count) await new Promise<void>((resolve) => (arrived = resolve));
      return messages[count - 1];
    };
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("WebSocket over TLS failed"));
    });
    ws.send("one");
    expect(await next(1)).toBe("echo: one");
    await putCertificate(mantrid.url, "ws.test", await files.issue(["ws.test"]));
    expect((await sClient(port, "ws.test")).subject).toBe("ws.test");
    const big = "x".repeat(300_000);
    ws.send(big);
    expect(await next(2)).toBe(`echo: ${big}`);
    ws.close();
  });
});
