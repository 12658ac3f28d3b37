/** The non-proxy actions over real sockets, against the real server. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startMantrid, type TestMantrid } from "../support/mantrid.ts";
import { connect, parseResponses, responses } from "../support/wire.ts";

let mantrid: TestMantrid;

beforeAll(async () => {
  mantrid = await startMantrid();
});
afterAll(() => mantrid.stop());

async function exchange(request: string, port = mantrid.port) {
  const connection = await connect(port);
  connection.send(request);
  const bytes = await connection.closed;
  return parseResponses(bytes, [request.split(" ")[0]!]);
}

describe("with no rules", () => {
  test("every request gets the no-hosts page (503)", async () => {
    const [response] = await exchange(
      "GET / HTTP/1.1\r\nHost: anything.test\r\nConnection: close\r\n\r\n",
    );
    expect(response!.status).toBe(503);
    expect(response!.body.toString()).toContain("No hosts configured");
  });
});

describe("actions", () => {
  beforeAll(async () => {
    await mkdir(join(mantrid.dir, "static"), { recursive: true });
    await writeFile(
      join(mantrid.dir, "static", "maintenance.http"),
      "HTTP/1.0 503 Service Unavailable\nContent-Type: text/plain\nRetry-After: 60\n\nback soon\n",
    );
    await mantrid.set("localhost", ["static", { type: "test" }, false]);
    await mantrid.set("down.test", ["static", { type: "maintenance" }, true]);
    await mantrid.set("empty.test", ["empty", { code: "204" }, false]);
    await mantrid.set("teapot.test", ["empty", { code: 418 }, false]);
    await mantrid.set("old.test", ["redirect", { redirect_to: "new.test" }, true]);
    await mantrid.set("abs.test", ["redirect", { redirect_to: "https://elsewhere.test/" }, false]);
    await mantrid.set("gone.test", ["unknown", {}, false]);
    await mantrid.set("none.test", ["no_hosts", {}, false]);
  });

  test("static test page: 200 Congratulations", async () => {
    const [response] = await exchange(
      "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    expect(response!.status).toBe(200);
    expect(response!.body.toString()).toContain("Congratulations");
    expect(Number(response!.headers["content-length"])).toBe(response!.body.length);
  });

  test("a page from static_dir, matched through a subdomain, with its own headers", async () => {
    const [response] = await exchange(
      "GET /x HTTP/1.1\r\nHost: www.DOWN.test.:8080\r\nConnection: close\r\n\r\n",
    );
    expect(response!.status).toBe(503);
    expect(response!.headers["retry-after"]).toBe("60");
    expect(response!.body.toString()).toBe("back soon\n");
  });

  test("a static type with no page is refused when it is set", async () => {
    await expect(
      mantrid.set("missing-page.test", ["static", { type: "nosuchpage" }, false]),
    ).rejects.toThrow("nosuchpage.http does not exist");
  });

  test("empty: the status and no body", async () => {
    const [noContent] = await exchange(
      "GET / HTTP/1.1\r\nHost: empty.test\r\nConnection: close\r\n\r\n",
    );
    expect(noContent!.status).toBe(204);
    expect(noContent!.body.length).toBe(0);
    const [teapot] = await exchange(
      "GET / HTTP/1.1\r\nHost: teapot.test\r\nConnection: close\r\n\r\n",
    );
    expect(teapot!.status).toBe(418);
    expect(teapot!.headers["content-length"]).toBe("0");
  });

  test("redirect keeps the path, scheme from the request", async () => {
    const [response] = await exchange(
      "GET /a/b?c=1 HTTP/1.1\r\nHost: www.old.test\r\nConnection: close\r\n\r\n",
    );
    expect(response!.status).toBe(302);
    expect(response!.headers.location).toBe("http://new.test/a/b?c=1");
    const [absolute] = await exchange(
      "GET /p HTTP/1.1\r\nHost: abs.test\r\nConnection: close\r\n\r\n",
    );
    expect(absolute!.headers.location).toBe("https://elsewhere.test/p");
  });

  test("redirect: X-Forwarded-Proto counts on an internal listener only", async () => {
    const request =
      "GET /p HTTP/1.1\r\nHost: old.test\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n";
    const [internal] = await exchange(request, mantrid.internalPort);
    expect(internal!.headers.location).toBe("https://new.test/p");
    const [external] = await exchange(request);
    expect(external!.headers.location).toBe("http://new.test/p");
    const [ssl] = await exchange(
      request.replace("X-Forwarded-Proto: https", "X-Forwarded-Protocol: SSL"),
      mantrid.internalPort,
    );
    expect(ssl!.headers.location).toBe("https://new.test/p");
  });

  test("unknown host, unknown and no_hosts rules", async () => {
    const [unknown] = await exchange(
      "GET / HTTP/1.1\r\nHost: i-love-bees.com\r\nConnection: close\r\n\r\n",
    );
    expect(unknown!.status).toBe(503);
    expect(unknown!.body.toString()).toContain("Unknown host");
    const [gone] = await exchange("GET / HTTP/1.1\r\nHost: gone.test\r\nConnection: close\r\n\r\n");
    expect(gone!.body.toString()).toContain("Unknown host");
    const [none] = await exchange("GET / HTTP/1.1\r\nHost: none.test\r\nConnection: close\r\n\r\n");
    expect(none!.body.toString()).toContain("No hosts configured");
  });

  test("HEAD gets the headers and no body", async () => {
    const connection = await connect(mantrid.port);
    connection.send(
      "HEAD / HTTP/1.1\r\nHost: localhost\r\n\r\nGET / HTTP/1.1\r\nHost: empty.test\r\nConnection: close\r\n\r\n",
    );
    const all = parseResponses(await connection.closed, ["HEAD", "GET"]);
    expect(all.map((r) => r.status)).toEqual([200, 204]);
    expect(Number(all[0]!.headers["content-length"])).toBeGreaterThan(0);
    expect(all[0]!.body.length).toBe(0);
  });
});

describe("connections", () => {
  test("keep-alive: several requests, different hosts, one connection, in order", async () => {
    const connection = await connect(mantrid.port);
    connection.send(
      "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n" +
        "GET /x HTTP/1.1\r\nHost: old.test\r\n\r\n" +
        "POST / HTTP/1.1\r\nHost: empty.test\r\nContent-Length: 5\r\n\r\nhello" +
        "GET / HTTP/1.1\r\nHost: teapot.test\r\n\r\n",
    );
    const all = await responses(connection, 4);
    expect(all.map((r) => r.status)).toEqual([200, 302, 204, 418]);
    for (const response of all) expect(response.headers.connection).not.toBe("close");
    connection.destroy();
  });

  test("a body sent in pieces is read and dropped before the next request", async () => {
    const connection = await connect(mantrid.port);
    connection.send(
      "POST / HTTP/1.1\r\nHost: empty.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
    );
    await connection.until((b) => parseResponses(b).length === 1);
    connection.send(
      "lo\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: teapot.test\r\nConnection: close\r\n\r\n",
    );
    const all = parseResponses(await connection.closed);
    expect(all.map((r) => r.status)).toEqual([204, 418]);
  });

  test("Connection: close is honoured", async () => {
    const [response] = await exchange(
      "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    expect(response!.headers.connection).toBe("close");
  });

  test("HTTP/1.0 closes by default and may ask for keep-alive", async () => {
    const [closing] = await exchange("GET / HTTP/1.0\r\nHost: localhost\r\n\r\n");
    expect(closing!.status).toBe(200);
    const connection = await connect(mantrid.port);
    connection.send("GET / HTTP/1.0\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n");
    const [kept] = await responses(connection, 1);
    expect(kept!.headers.connection?.toLowerCase()).toBe("keep-alive");
    connection.send("GET / HTTP/1.0\r\nHost: empty.test\r\n\r\n");
    const all = parseResponses(await connection.closed);
    expect(all.map((r) => r.status)).toEqual([200, 204]);
  });

  test("HTTP/1.0 without Host gets an answer (unknown host)", async () => {
    const [response] = await exchange("GET / HTTP/1.0\r\n\r\n");
    expect(response!.status).toBe(503);
  });

  test("a client that sends its request and a FIN still gets the answer", async () => {
    const connection = await connect(mantrid.port);
    connection.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    connection.end();
    const [response] = parseResponses(await connection.closed);
    expect(response!.status).toBe(200);
  });

  test("a malformed request gets 400 and the connection closed", async () => {
    for (const bad of [
      "GARBAGE\r\n\r\n",
      "GET / HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
    ]) {
      const connection = await connect(mantrid.port);
      connection.send(`${bad}GET / HTTP/1.1\r\nHost: localhost\r\n\r\n`);
      const all = parseResponses(await connection.closed);
      expect(all).toHaveLength(1);
      expect(all[0]!.status).toBe(400);
    }
  });

  test("an unsupported version gets 505", async () => {
    const [response] = await exchange("GET / HTTP/2.0\r\nHost: localhost\r\n\r\n");
    expect(response!.status).toBe(505);
  });
});

describe("stats", () => {
  test("requests and bytes are counted per matched rule", async () => {
    await mantrid.set("count.test", ["empty", { code: 200 }, true]);
    const request = "GET / HTTP/1.1\r\nHost: a.count.test\r\nConnection: close\r\n\r\n";
    let sent = 0;
    for (let i = 0; i < 3; i++) {
      const [response] = await exchange(request);
      sent += response!.length;
    }
    const stats = (await (await fetch(`${mantrid.url}/stats/count.test/`)).json()) as Record<
      string,
      number
    >;
    expect(stats).toEqual({
      open_requests: 0,
      completed_requests: 3,
      bytes_received: request.length * 3,
      bytes_sent: sent,
      rates: expect.any(Object),
    });
  });
});
