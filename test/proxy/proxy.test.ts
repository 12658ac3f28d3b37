/** The proxy data plane end to end: real Mantrid, real backends, raw client sockets. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { parseAddress } from "../../src/config/address.ts";
import { httpBackend, namedBackend, type TestBackend } from "../support/backend.ts";
import { startMantrid, type TestMantrid } from "../support/mantrid.ts";
import { connect, parseResponses, responses } from "../support/wire.ts";

let mantrid: TestMantrid;
let alpha: TestBackend;
let beta: TestBackend;

beforeAll(async () => {
  mantrid = await startMantrid();
  alpha = await namedBackend("alpha");
  beta = await namedBackend("beta");
  await mantrid.set("alpha.test", ["proxy", { backends: [`127.0.0.1:${alpha.port}`] }, true]);
  await mantrid.set("beta.test", ["proxy", { backends: [`127.0.0.1:${beta.port}`] }, false]);
});
afterAll(async () => {
  await mantrid.stop();
  await alpha.close();
  await beta.close();
});

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/**
 * A raw backend whose connections each answer one request, then close on the
 * next one without answering it.
 */
function oneShotBackend() {
  const counts = { connections: 0, requests: 0 };
  const listener = Bun.listen<{ served: boolean; seen: string }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        counts.connections++;
        socket.data = { served: false, seen: "" };
      },
      data(socket, data) {
        socket.data.seen += data.toString("latin1");
        if (!socket.data.seen.includes("\r\n\r\n")) return;
        socket.data.seen = "";
        counts.requests++;
        if (socket.data.served) return void socket.end();
        socket.data.served = true;
        socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      },
    },
  });
  return {
    listener,
    port: listener.port,
    get connections() {
      return counts.connections;
    },
    get requests() {
      return counts.requests;
    },
  };
}

/** A request through Mantrid with node:http, for bodies too big to frame by hand. */
function viaMantrid(
  options: {
    method?: string;
    path?: string;
    host: string;
    headers?: Record<string, string | number>;
  },
  body?: Uint8Array | Uint8Array[],
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: "127.0.0.1",
        port: mantrid.port,
        method: options.method ?? "GET",
        path: options.path ?? "/",
        headers: { Host: options.host, ...options.headers },
        agent: false,
      },
      (response) => {
        const parts: Buffer[] = [];
        response.on("data", (part: Buffer) => parts.push(part));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(parts),
          }),
        );
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    for (const part of Array.isArray(body) ? body : body ? [body] : []) request.write(part);
    request.end();
  });
}

describe("routing per request", () => {
  test("two Hosts on one connection reach two backends", async () => {
    const connection = await connect(mantrid.port);
    connection.send("GET / HTTP/1.1\r\nHost: alpha.test\r\n\r\n");
    const [first] = await responses(connection, 1);
    connection.send("GET / HTTP/1.1\r\nHost: beta.test\r\n\r\n");
    const all = await responses(connection, 2);
    expect(first!.body.toString()).toBe("alpha");
    expect(all[1]!.body.toString()).toBe("beta");
    connection.destroy();
  });

  test("an absolute-form target that agrees with Host is proxied", async () => {
    const connection = await connect(mantrid.port);
    connection.send(
      "GET http://Alpha.test:80/x HTTP/1.1\r\nHost: alpha.test\r\nConnection: close\r\n\r\n",
    );
    const [response] = parseResponses(await connection.closed);
    expect(response!.body.toString()).toBe("alpha");
  });

  test("pipelined requests are answered in order", async () => {
    const connection = await connect(mantrid.port);
    const hosts = ["alpha.test", "beta.test", "www.alpha.test", "beta.test", "alpha.test"];
    connection.send(hosts.map((h) => `GET / HTTP/1.1\r\nHost: ${h}\r\n\r\n`).join(""));
    const all = await responses(connection, hosts.length);
    expect(all.map((r) => r.body.toString())).toEqual(["alpha", "beta", "alpha", "beta", "alpha"]);
    connection.destroy();
  });

  test("pooled backend connections are reused", async () => {
    const backend = await namedBackend("pooled");
    await mantrid.set("pool.test", ["proxy", { backends: [`127.0.0.1:${backend.port}`] }, false]);
    for (let i = 0; i < 20; i++) {
      const connection = await connect(mantrid.port);
      connection.send("GET / HTTP/1.1\r\nHost: pool.test\r\nConnection: close\r\n\r\n");
      const [response] = parseResponses(await connection.closed);
      expect(response!.body.toString()).toBe("pooled");
    }
    expect(backend.requests).toHaveLength(20);
    expect(backend.connections).toBe(1);
    await backend.close();
  });
});

describe("bodies", () => {
  let echo: TestBackend;
  beforeAll(async () => {
    echo = await httpBackend((request, response) => {
      const hash = createHash("sha256");
      let length = 0;
      request.on("data", (part: Buffer) => {
        hash.update(part);
        length += part.length;
      });
      request.on("end", () => {
        const url = new URL(request.url ?? "/", "http://x");
        const size = Number(url.searchParams.get("download") ?? 0);
        response.setHeader("X-Upload-Sha", hash.digest("hex"));
        response.setHeader("X-Upload-Length", length);
        response.setHeader("X-Seen-Transfer-Encoding", request.headers["transfer-encoding"] ?? "");
        if (url.searchParams.has("chunked")) {
          // No Content-Length: node sends the body chunked.
          const data = Buffer.alloc(size, 7);
          for (let i = 0; i < size; i += 65536) response.write(data.subarray(i, i + 65536));
          response.end();
        } else {
          const data = Buffer.alloc(size, 9);
          response.setHeader("Content-Length", size);
          response.end(data);
        }
      });
    });
    await mantrid.set("echo.test", ["proxy", { backends: [`127.0.0.1:${echo.port}`] }, false]);
  });
  afterAll(() => echo.close());

  test("10 MB up and 10 MB down, checksums equal", async () => {
    const upload = randomBytes(10 * 1024 * 1024);
    const response = await viaMantrid(
      {
        method: "POST",
        path: `/?download=${10 * 1024 * 1024}`,
        host: "echo.test",
        headers: { "Content-Length": upload.length },
      },
      upload,
    );
    expect(response.status).toBe(200);
    expect(response.headers["x-upload-sha"]).toBe(sha(upload));
    expect(response.body.length).toBe(10 * 1024 * 1024);
    expect(sha(response.body)).toBe(sha(Buffer.alloc(10 * 1024 * 1024, 9)));
  });

  test("chunked upload and chunked download", async () => {
    const parts = [randomBytes(1000), randomBytes(70_000), randomBytes(5)];
    const response = await viaMantrid(
      {
        method: "POST",
        path: "/?download=300000&chunked",
        host: "echo.test",
        headers: { "Transfer-Encoding": "chunked" },
      },
      parts,
    );
    expect(response.headers["x-upload-sha"]).toBe(sha(Buffer.concat(parts)));
    expect(response.headers["x-seen-transfer-encoding"]).toBe("chunked");
    expect(response.headers["transfer-encoding"]).toBe("chunked");
    expect(response.body.length).toBe(300_000);
  });

  test("a body that arrives in one piece with its head leaves byte for byte, small or large", async () => {
    // Sizes on both sides of the bytes that ride in the head's own write.
    const bodies = [1, 16 * 1024, 16 * 1024 + 1, 60_000].map((size) => randomBytes(size));
    // Heads with nothing to drop, with hop-by-hop lines among the others, and
    // with them last: whether Mantrid's own Connection line fits where the
    // dropped lines were decides whether the head is rewritten where it lies.
    const heads: Record<string, string> = {
      plain: "Content-Type: application/octet-stream\r\n",
      hops:
        "Connection: keep-alive, X-Hop\r\nX-Before: 1\r\nKeep-Alive: timeout=5\r\n" +
        "X-Hop: gone\r\nX-After: 2\r\nTE: trailers\r\n",
      trailing: "X-Before: 1\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5, max=100\r\n",
    };
    const backend = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(socket, data) {
          const [, kind, size] = /GET \/(\w+)\/(\d+)/.exec(data.toString("latin1"))!;
          const body = bodies.find((candidate) => candidate.length === Number(size))!;
          const head = `HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n${heads[kind!]}\r\n`;
          socket.write(Buffer.concat([Buffer.from(head), body]));
        },
      },
    });
    // What the client asks for decides what Mantrid adds: nothing, `close` or `keep-alive`.
    const clients = [
      { version: "1.1", connection: "", expect: undefined },
      { version: "1.1", connection: "Connection: close\r\n", expect: "close" },
      { version: "1.0", connection: "Connection: keep-alive\r\n", expect: "keep-alive" },
    ];
    try {
      await mantrid.set("one-piece.test", [
        "proxy",
        { backends: [`127.0.0.1:${backend.port}`] },
        false,
      ]);
      for (const kind of Object.keys(heads)) {
        for (const client of clients) {
          for (const body of bodies) {
            const connection = await connect(mantrid.port);
            connection.send(
              `GET /${kind}/${body.length} HTTP/${client.version}\r\n` +
                `Host: one-piece.test\r\n${client.connection}\r\n`,
            );
            const [response] = await responses(connection, 1);
            connection.destroy();
            const what = `${kind} head, HTTP/${client.version} ${client.connection.trim()}`;
            expect({ what, sha: sha(response!.body) }).toEqual({ what, sha: sha(body) });
            const names = response!.rawHeaders.map(([name]) => name.toLowerCase());
            expect({ what, names }).toEqual({
              what,
              names: [
                "content-length",
                ...(kind === "plain" ? ["content-type"] : ["x-before"]),
                ...(kind === "hops" ? ["x-after"] : []),
                ...(client.expect === undefined ? [] : ["connection"]),
              ],
            });
            expect(response!.headers.connection).toBe(client.expect);
            expect(response!.headers["content-length"]).toBe(String(body.length));
          }
        }
      }
    } finally {
      backend.stop(true);
    }
  });

  test("bodies that come with their heads, pipelined, each reach the backend whole", async () => {
    // Sizes on both sides of the bytes that ride in the head's own write.
    const bodies = [1, 100, 16 * 1024, 16 * 1024 + 1, 40_000].map((size) => randomBytes(size));
    const connection = await connect(mantrid.port);
    connection.send(
      Buffer.concat(
        bodies.flatMap((body) => [
          Buffer.from(
            `POST / HTTP/1.1\r\nHost: echo.test\r\nContent-Length: ${body.length}\r\n\r\n`,
          ),
          body,
        ]),
      ),
    );
    const all = await responses(connection, bodies.length);
    expect(all.map((response) => response.headers["x-upload-sha"])).toEqual(bodies.map(sha));
    connection.destroy();
  });

  test("HEAD, 204 and 304 carry no body, and the connection stays usable", async () => {
    const framing = await httpBackend((request, response) => {
      if (request.url === "/204") response.writeHead(204).end();
      else if (request.url === "/304") response.writeHead(304, { ETag: '"x"' }).end();
      else
        response
          .writeHead(200, { "Content-Length": 5 })
          .end(request.method === "HEAD" ? undefined : "hello");
    });
    await mantrid.set("framing.test", [
      "proxy",
      { backends: [`127.0.0.1:${framing.port}`] },
      false,
    ]);
    const connection = await connect(mantrid.port);
    connection.send(
      "HEAD / HTTP/1.1\r\nHost: framing.test\r\n\r\n" +
        "GET /204 HTTP/1.1\r\nHost: framing.test\r\n\r\n" +
        "GET /304 HTTP/1.1\r\nHost: framing.test\r\n\r\n" +
        "GET / HTTP/1.1\r\nHost: framing.test\r\n\r\n",
    );
    const all = await responses(connection, 4, ["HEAD", "GET", "GET", "GET"]);
    expect(all.map((r) => r.status)).toEqual([200, 204, 304, 200]);
    expect(all[0]!.headers["content-length"]).toBe("5");
    expect(all[0]!.body.length).toBe(0);
    expect(all[3]!.body.toString()).toBe("hello");
    connection.destroy();
    await framing.close();
  });

  test("Expect: 100-continue passes through", async () => {
    const continuing = await httpBackend((request, response) => {
      let length = 0;
      request.on("data", (part: Buffer) => {
        length += part.length;
      });
      request.on("end", () => response.end(`got ${length}`));
    });
    continuing.server.on("checkContinue", (request, response) => {
      response.writeContinue();
      continuing.server.emit("request", request, response);
    });
    await mantrid.set("continue.test", [
      "proxy",
      { backends: [`127.0.0.1:${continuing.port}`] },
      false,
    ]);
    const connection = await connect(mantrid.port);
    connection.send(
      "POST / HTTP/1.1\r\nHost: continue.test\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n",
    );
    await connection.until((bytes) => bytes.toString().startsWith("HTTP/1.1 100"));
    connection.send("data");
    const all = await responses(connection, 1);
    expect(all[0]!.status).toBe(100);
    expect(all[1]!.status).toBe(200);
    expect(all[1]!.body.toString()).toBe("got 4");
    connection.destroy();
    await continuing.close();
  });
});

describe("headers", () => {
  let mirror: TestBackend;
  beforeAll(async () => {
    mirror = await httpBackend((request, response) => {
      response.setHeader("Content-Type", "application/json");
      response.setHeader("Connection", "keep-alive, X-Backend-Hop");
      response.setHeader("X-Backend-Hop", "secret");
      response.setHeader("Keep-Alive", "timeout=5");
      response.end(JSON.stringify(request.headers));
    });
    await mantrid.set("mirror.test", ["proxy", { backends: [`127.0.0.1:${mirror.port}`] }, false]);
  });
  afterAll(() => mirror.close());

  const spoofed =
    "GET / HTTP/1.1\r\nHost: mirror.test\r\nX-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\n" +
    "X-Forwarded-Protocol: ssl\r\nConnection: close, X-Client-Hop\r\nX-Client-Hop: 1\r\nKeep-Alive: 300\r\n" +
    "Proxy-Connection: keep-alive\r\nTE: trailers\r\nX-Kept: yes\r\n\r\n";

  async function send(port: number) {
    const connection = await connect(port);
    connection.send(spoofed);
    const [response] = parseResponses(await connection.closed);
    return {
      response: response!,
      seen: JSON.parse(response!.body.toString()) as Record<string, string>,
    };
  }

  test("external listener: client forwarding headers replaced by Mantrid's", async () => {
    const { seen } = await send(mantrid.port);
    expect(seen["x-forwarded-for"]).toBe("127.0.0.1");
    expect(seen["x-forwarded-proto"]).toBe("http");
    expect(seen["x-forwarded-protocol"]).toBeUndefined();
    expect(seen["x-kept"]).toBe("yes");
  });

  test("internal listener: forwarding headers kept, client address appended", async () => {
    const { seen } = await send(mantrid.internalPort);
    expect(seen["x-forwarded-for"]).toBe("6.6.6.6, 127.0.0.1");
    expect(seen["x-forwarded-proto"]).toBe("https");
    expect(seen["x-forwarded-protocol"]).toBe("ssl");
  });

  test("hop-by-hop headers go no further, both ways", async () => {
    const { seen, response } = await send(mantrid.port);
    for (const name of ["x-client-hop", "keep-alive", "proxy-connection", "te"])
      expect(seen[name]).toBeUndefined();
    expect(seen.connection ?? "").not.toContain("x-client-hop");
    expect(response.headers["x-backend-hop"]).toBeUndefined();
    expect(response.headers["keep-alive"]).toBeUndefined();
    expect(response.headers.connection).toBe("close");
  });
});

describe("failures", () => {
  test("a dead backend: every attempt, `delay` apart, then 502 with the timeout page", async () => {
    const dead = await httpBackend(() => {});
    const port = dead.port;
    await dead.close();
    await mantrid.set("dead.test", [
      "proxy",
      { backends: [`127.0.0.1:${port}`], attempts: 3, delay: 0.05 },
      false,
    ]);
    const started = performance.now();
    const connection = await connect(mantrid.port);
    connection.send("GET / HTTP/1.1\r\nHost: dead.test\r\nConnection: close\r\n\r\n");
    const [response] = parseResponses(await connection.closed);
    expect(response!.status).toBe(502);
    expect(response!.body.toString()).toContain("Service unavailable");
    // Three attempts with two delays between them: at least 100 ms passed.
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
  });

  test("a second backend picks up when the first is dead, within the attempts", async () => {
    const dead = await httpBackend(() => {});
    const port = dead.port;
    await dead.close();
    await mantrid.set("half.test", [
      "proxy",
      { backends: [`127.0.0.1:${port}`, `127.0.0.1:${alpha.port}`], attempts: 20, delay: 0 },
      false,
    ]);
    for (let i = 0; i < 10; i++) {
      const connection = await connect(mantrid.port);
      connection.send("GET / HTTP/1.1\r\nHost: half.test\r\nConnection: close\r\n\r\n");
      const [response] = parseResponses(await connection.closed);
      expect(response!.status).toBe(200);
    }
  });

  test("a backend that dies mid-response: the client connection closes, no whole-looking response", async () => {
    const cutting = await httpBackend((_request, response) => {
      response.writeHead(200, { "Content-Length": 100_000 });
      response.write(Buffer.alloc(1000, 1), () => response.socket?.destroy());
    });
    await mantrid.set("cut.test", ["proxy", { backends: [`127.0.0.1:${cutting.port}`] }, false]);
    const connection = await connect(mantrid.port);
    connection.send("GET / HTTP/1.1\r\nHost: cut.test\r\n\r\n");
    const bytes = await connection.closed;
    expect(bytes.toString("latin1")).toStartWith("HTTP/1.1 200");
    expect(parseResponses(bytes)).toHaveLength(0);
    await cutting.close();
  });

  test("a backend that dies inside its head: 502, and the next request parses afresh", async () => {
    const halfHead = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(socket) {
          socket.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Padding: aaaaaaaa");
          socket.end();
        },
      },
    });
    await mantrid.set("half.head.test", [
      "proxy",
      { backends: [`127.0.0.1:${halfHead.port}`] },
      false,
    ]);
    const connection = await connect(mantrid.port);
    connection.send("GET / HTTP/1.1\r\nHost: half.head.test\r\n\r\n");
    const [first] = await responses(connection, 1);
    expect(first!.status).toBe(502);
    connection.send("GET / HTTP/1.1\r\nHost: alpha.test\r\n\r\n");
    const all = await responses(connection, 2);
    expect(all[1]!.status).toBe(200);
    expect(all[1]!.body.toString()).toBe("alpha");
    connection.destroy();
    halfHead.stop(true);
  });

  test("a backend that dies before the head: 502", async () => {
    const rude = await httpBackend((request) => request.socket.destroy());
    await mantrid.set("rude.test", ["proxy", { backends: [`127.0.0.1:${rude.port}`] }, false]);
    const connection = await connect(mantrid.port);
    connection.send("GET / HTTP/1.1\r\nHost: rude.test\r\nConnection: close\r\n\r\n");
    const [response] = parseResponses(await connection.closed);
    expect(response!.status).toBe(502);
    await rude.close();
  });

  test("a pooled connection the backend drops on reuse: retried on a fresh one, no error", async () => {
    // Each backend connection answers one request, then closes on the next without a word:
    // the race of a keep-alive timeout expiring just as a request is sent.
    const oneShot = oneShotBackend();
    await mantrid.set("stale.test", ["proxy", { backends: [`127.0.0.1:${oneShot.port}`] }, false]);
    for (let i = 0; i < 3; i++) {
      const connection = await connect(mantrid.port);
      connection.send("GET / HTTP/1.1\r\nHost: stale.test\r\nConnection: close\r\n\r\n");
      const [response] = parseResponses(await connection.closed);
      expect(response!.status).toBe(200);
      expect(response!.body.toString()).toBe("ok");
    }
    expect(oneShot.connections).toBe(3);
    oneShot.listener.stop(true);
  });

  test("a POST is not replayed when a reused connection drops it: 502", async () => {
    const oneShot = oneShotBackend();
    await mantrid.set("post.test", ["proxy", { backends: [`127.0.0.1:${oneShot.port}`] }, false]);
    const first = await connect(mantrid.port);
    first.send("GET / HTTP/1.1\r\nHost: post.test\r\nConnection: close\r\n\r\n");
    expect(parseResponses(await first.closed)[0]!.status).toBe(200);
    const second = await connect(mantrid.port);
    second.send(
      "POST / HTTP/1.1\r\nHost: post.test\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi",
    );
    expect(parseResponses(await second.closed)[0]!.status).toBe(502);
    expect(oneShot.requests).toBe(2);
    oneShot.listener.stop(true);
  });
});

describe("stats while streaming", () => {
  test("bytes_sent grows during a long download, before it completes", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = await httpBackend(async (_request, response) => {
      response.writeHead(200, { "Content-Length": 200_000 });
      response.write(Buffer.alloc(100_000, 1));
      await gate;
      response.end(Buffer.alloc(100_000, 2));
    });
    await mantrid.set("slow.test", ["proxy", { backends: [`127.0.0.1:${slow.port}`] }, false]);
    const connection = await connect(mantrid.port);
    connection.send("GET / HTTP/1.1\r\nHost: slow.test\r\nConnection: close\r\n\r\n");
    await connection.until((bytes) => bytes.length > 100_000);
    const during = (await (await fetch(`${mantrid.url}/stats/slow.test`)).json()) as Record<
      string,
      number
    >;
    expect(during.open_requests).toBe(1);
    expect(during.bytes_sent).toBeGreaterThan(100_000);
    release();
    await connection.closed;
    const after = (await (await fetch(`${mantrid.url}/stats/slow.test`)).json()) as Record<
      string,
      number
    >;
    expect(after.open_requests).toBe(0);
    expect(after.completed_requests).toBe(1);
    expect(after.bytes_sent).toBeGreaterThan(200_000);
    await slow.close();
  });
});

describe("IPv6", () => {
  test("a [::1] listener serves, and X-Forwarded-For carries the IPv6 client address", async () => {
    const v6 = await startMantrid({
      bind: [parseAddress("[::1]:0")],
      bindInternal: [],
    });
    const mirror = await httpBackend((request, response) => {
      response.end(String(request.headers["x-forwarded-for"]));
    });
    await v6.set("six.test", ["proxy", { backends: [`127.0.0.1:${mirror.port}`] }, false]);
    const connection = await connect(v6.port, "::1");
    connection.send("GET / HTTP/1.1\r\nHost: six.test\r\nConnection: close\r\n\r\n");
    const [response] = parseResponses(await connection.closed);
    expect(response!.body.toString()).toBe("::1");
    await v6.stop();
    await mirror.close();
  });

  test("*:port listens on IPv4 and IPv6; an IPv4 client is named without ::ffff:", async () => {
    const both = await startMantrid({ bind: [parseAddress("*:0")], bindInternal: [] });
    const mirror = await httpBackend((request, response) => {
      response.end(String(request.headers["x-forwarded-for"]));
    });
    await both.set("any.test", ["proxy", { backends: [`127.0.0.1:${mirror.port}`] }, false]);
    for (const [host, expected] of [
      ["127.0.0.1", "127.0.0.1"],
      ["::1", "::1"],
    ]) {
      const connection = await connect(both.port, host);
      connection.send("GET / HTTP/1.1\r\nHost: any.test\r\nConnection: close\r\n\r\n");
      const [response] = parseResponses(await connection.closed);
      expect(response!.body.toString()).toBe(expected!);
    }
    await both.stop();
    await mirror.close();
  });
});
