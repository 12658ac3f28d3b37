/**
 * `redirect_https` over real sockets: plain-HTTP requests get a 308 to the
 * same host and target on https, requests that came over https (said by
 * X-Forwarded-Proto on a bind_internal listener) run the rule's action.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseAddress } from "../../src/config/address.ts";
import { httpBackend, type TestBackend } from "../support/backend.ts";
import { startMantrid, type TestMantrid } from "../support/mantrid.ts";
import { connect, parseResponses, responses } from "../support/wire.ts";
import { type CaFiles, caFiles, putCertificate, tlsClient } from "../tls/harness.ts";

let mantrid: TestMantrid;
let backend: TestBackend;

beforeAll(async () => {
  // No bind_tls listener: https is taken to be on 443, behind a TLS terminator.
  mantrid = await startMantrid();
  backend = await httpBackend((_request, response) => response.end("from the backend"));
  await mantrid.set("secure.test", ["empty", { code: 204, redirect_https: true }, true]);
  await mantrid.set("plain.test", ["empty", { code: 204 }, false]);
  await mantrid.set("app.test", [
    "proxy",
    { backends: [`127.0.0.1:${backend.port}`], redirect_https: "true" },
    false,
  ]);
});
afterAll(async () => {
  await mantrid.stop();
  await backend.close();
});

async function exchange(request: string, port = mantrid.port) {
  const connection = await connect(port);
  connection.send(request);
  const bytes = await connection.closed;
  return parseResponses(bytes, [request.split(" ")[0]!]);
}

describe("without a TLS listener", () => {
  test("plain HTTP: 308 to https, the same host without its port, the same path and query", async () => {
    const [response] = await exchange(
      "GET /a/b?c=d&e HTTP/1.1\r\nHost: Secure.TEST:8080\r\nConnection: close\r\n\r\n",
    );
    expect(response!.status).toBe(308);
    expect(response!.headers.location).toBe("https://secure.test/a/b?c=d&e");
    expect(response!.body.length).toBe(0);
  });

  test("a subdomain the rule matches keeps its own name", async () => {
    const [response] = await exchange(
      "GET / HTTP/1.1\r\nHost: www.secure.test\r\nConnection: close\r\n\r\n",
    );
    expect(response!.headers.location).toBe("https://www.secure.test/");
  });

  test("an absolute-form target: only its path and query are kept", async () => {
    const [response] = await exchange(
      "GET http://secure.test:8080/x?y=1 HTTP/1.1\r\nHost: secure.test\r\nConnection: close\r\n\r\n",
    );
    expect(response!.status).toBe(308);
    expect(response!.headers.location).toBe("https://secure.test/x?y=1");
  });

  test("keep-alive survives the redirect; HEAD gets the head alone", async () => {
    const connection = await connect(mantrid.port);
    connection.send("HEAD /one HTTP/1.1\r\nHost: secure.test\r\n\r\n");
    connection.send("GET /two HTTP/1.1\r\nHost: secure.test\r\n\r\n");
    const [head, get] = await responses(connection, 2, ["HEAD", "GET"]);
    connection.destroy();
    expect(head!.status).toBe(308);
    expect(head!.headers.location).toBe("https://secure.test/one");
    expect(head!.headers.connection).toBe("keep-alive");
    expect(get!.headers.location).toBe("https://secure.test/two");
  });

  test("a client on the external listener cannot claim https with X-Forwarded-Proto", async () => {
    const [response] = await exchange(
      "GET / HTTP/1.1\r\nHost: secure.test\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n",
    );
    expect(response!.status).toBe(308);
  });

  test("on bind_internal, X-Forwarded-Proto https runs the action, http is redirected", async () => {
    const [secure] = await exchange(
      "GET / HTTP/1.1\r\nHost: secure.test\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n",
      mantrid.internalPort,
    );
    expect(secure!.status).toBe(204);
    const [plain] = await exchange(
      "GET /p HTTP/1.1\r\nHost: secure.test\r\nX-Forwarded-Proto: http\r\nConnection: close\r\n\r\n",
      mantrid.internalPort,
    );
    expect(plain!.status).toBe(308);
    expect(plain!.headers.location).toBe("https://secure.test/p");
  });

  test("a proxy rule: plain requests never reach the backend, https ones do", async () => {
    const before = backend.requests.length;
    const [redirected] = await exchange(
      "POST /api HTTP/1.1\r\nHost: app.test\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    );
    expect(redirected!.status).toBe(308);
    expect(redirected!.headers.location).toBe("https://app.test/api");
    expect(backend.requests.length).toBe(before);
    const [proxied] = await exchange(
      "GET /api HTTP/1.1\r\nHost: app.test\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n",
      mantrid.internalPort,
    );
    expect(proxied!.status).toBe(200);
    expect(proxied!.body.toString()).toBe("from the backend");
    expect(backend.requests.length).toBe(before + 1);
  });

  test("a rule without the option runs its action over plain HTTP", async () => {
    const [response] = await exchange(
      "GET / HTTP/1.1\r\nHost: plain.test\r\nConnection: close\r\n\r\n",
    );
    expect(response!.status).toBe(204);
  });
});

describe("with bind_tls listeners on port 0", () => {
  let secure: TestMantrid;
  let files: CaFiles;
  let tlsPort: number;

  beforeAll(async () => {
    files = await caFiles();
    secure = await startMantrid({
      bindTls: [parseAddress("127.0.0.1:0"), parseAddress("127.0.0.1:0")],
    });
    tlsPort = secure.running.ports.tls[0]!;
    await putCertificate(secure.url, "secure.test", await files.issue(["secure.test"]));
    await secure.set("secure.test", ["empty", { code: 204, redirect_https: true }, false]);
  });
  afterAll(async () => {
    await secure.stop();
    await files.remove();
  });

  test("plain HTTP: the Location carries the port the first TLS listener was given", async () => {
    expect(tlsPort).toBeGreaterThan(0);
    expect(tlsPort).not.toBe(secure.running.ports.tls[1]);
    const [response] = await exchange(
      "GET /a?b HTTP/1.1\r\nHost: secure.test:8080\r\nConnection: close\r\n\r\n",
      secure.port,
    );
    expect(response!.status).toBe(308);
    expect(response!.headers.location).toBe(`https://secure.test:${tlsPort}/a?b`);
  });

  test("over TLS the action runs, on keep-alive too", async () => {
    const client = await tlsClient(tlsPort, "secure.test", files.ca.cert);
    try {
      client.send("GET /a HTTP/1.1\r\nHost: secure.test\r\n\r\n");
      client.send("GET /b HTTP/1.1\r\nHost: secure.test\r\n\r\n");
      const text = await client.until((received) => received.split("HTTP/1.1 ").length > 2);
      expect(text.match(/^HTTP\/1\.1 \d+/gm)).toEqual(["HTTP/1.1 204", "HTTP/1.1 204"]);
    } finally {
      client.socket.destroy();
    }
  });
});

describe("the option", () => {
  test("is stored as a boolean, also when the command line sent a string", async () => {
    const rule = await (await fetch(`${mantrid.url}/hostname/app.test/`)).json();
    expect(rule[1].redirect_https).toBe(true);
  });

  test("anything but true or false is refused with the field named, and nothing changes", async () => {
    const response = await fetch(`${mantrid.url}/hostname/secure.test/`, {
      method: "PUT",
      body: JSON.stringify(["empty", { code: 200, redirect_https: "yes" }, false]),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { issues: { path: string[]; message: string }[] };
    expect(body.issues[0]!.path).toEqual(["options", "redirect_https"]);
    expect(body.issues[0]!.message).toBe("redirect_https must be true or false");
    const [still] = await exchange(
      "GET / HTTP/1.1\r\nHost: secure.test\r\nConnection: close\r\n\r\n",
    );
    expect(still!.status).toBe(308);
  });
});
