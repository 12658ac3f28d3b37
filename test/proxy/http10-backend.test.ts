/**
 * An HTTP/1.0 backend (Python's `http.server`, the original Mantrid's guide
 * backend) answers `HTTP/1.0 200` with a Content-Length and closes. Mantrid
 * answers its client in HTTP/1.1 with its own Connection handling, so the
 * client's connection stays up; only a body that ends at the backend's close
 * closes it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess, TCPSocketListener } from "bun";
import { DEFAULT_LIMITS } from "../../src/http/limits.ts";
import { parseResponseHead, ResponseHead } from "../../src/http/response-head.ts";
import { clientResponseHead, clientResponseHeadInPlace } from "../../src/proxy/forward-head.ts";
import { startMantrid, type TestMantrid } from "../support/mantrid.ts";
import { connect, parseResponses, responses } from "../support/wire.ts";

let dir: string;
let python: Subprocess<"ignore", "pipe", "ignore">;
let pythonPort: number;
let untilClose: TCPSocketListener<undefined>;
let mantrid: TestMantrid;

/** `python3 -m http.server 0` serving `dir`; resolves with the port it prints. */
async function startPythonServer(): Promise<number> {
  python = Bun.spawn(
    ["python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", dir],
    { stdin: "ignore", stdout: "pipe", stderr: "ignore" },
  );
  const decoder = new TextDecoder();
  let printed = "";
  for await (const chunk of python.stdout) {
    printed += decoder.decode(chunk, { stream: true });
    // Only a whole line: a read may end in the middle of the number.
    const match = /port (\d+) \(/.exec(printed);
    if (match) return Number(match[1]);
  }
  throw new Error(`python3 -m http.server did not start: ${printed}`);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mantrid-http10-"));
  await writeFile(join(dir, "hello.txt"), "hello\n");
  pythonPort = await startPythonServer();
  // An HTTP/1.0 response with no length: its body ends where the backend closes.
  untilClose = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(socket) {
        socket.end("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close");
      },
    },
  });
  mantrid = await startMantrid();
  await mantrid.set("py.test", ["proxy", { backends: [`127.0.0.1:${pythonPort}`] }, false]);
  await mantrid.set("eof.test", ["proxy", { backends: [`127.0.0.1:${untilClose.port}`] }, false]);
});

afterAll(async () => {
  await mantrid?.stop();
  untilClose?.stop(true);
  python?.kill();
  await python?.exited;
  await rm(dir, { recursive: true, force: true });
});

const GET = "GET /hello.txt HTTP/1.1\r\nHost: py.test\r\n\r\n";

test("the backend really answers HTTP/1.0 and closes", async () => {
  const connection = await connect(pythonPort);
  connection.send(GET);
  const bytes = await connection.closed;
  expect(bytes.toString("latin1")).toStartWith("HTTP/1.0 200 OK\r\n");
  expect(parseResponses(bytes)[0]!.headers["content-length"]).toBe("6");
});

test("ten requests on one client connection, each answered HTTP/1.1 and kept", async () => {
  const connection = await connect(mantrid.port);
  for (let i = 1; i <= 10; i++) {
    connection.send(GET);
    const all = await responses(connection, i);
    const response = all[i - 1]!;
    const at = all.slice(0, i - 1).reduce((sum, r) => sum + r.length, 0);
    expect(connection.received().toString("latin1", at, at + 17)).toBe("HTTP/1.1 200 OK\r\n");
    expect(response.headers.connection).toBeUndefined();
    expect(response.body.toString()).toBe("hello\n");
  }
  // The ten went over the one connection this test opened, and it is still open.
  expect(mantrid.running.openConnections()).toBe(1);
  connection.end();
  await connection.closed;
});

test("Python's http.client opens one connection for ten requests", async () => {
  const script = `
import http.client, sys
connects = 0
class Counting(http.client.HTTPConnection):
    def connect(self):
        global connects
        connects += 1
        super().connect()
client = Counting("127.0.0.1", int(sys.argv[1]))
for _ in range(10):
    client.request("GET", "/hello.txt", headers={"Host": "py.test"})
    response = client.getresponse()
    body = response.read()
    assert (response.status, response.version, body) == (200, 11, b"hello\\n"), (response.status, response.version, body)
print(connects)
`;
  const run = Bun.spawn(["python3", "-c", script, String(mantrid.port)], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(run.stdout).text(),
    new Response(run.stderr).text(),
    run.exited,
  ]);
  expect(err).toBe("");
  expect(code).toBe(0);
  expect(out.trim()).toBe("1");
});

test("an HTTP/1.0 client that asks to keep the connection is told so, and kept", async () => {
  const connection = await connect(mantrid.port);
  const request = "GET /hello.txt HTTP/1.0\r\nHost: py.test\r\nConnection: keep-alive\r\n\r\n";
  connection.send(request);
  const [first] = await responses(connection, 1);
  expect(connection.received().toString("latin1")).toStartWith("HTTP/1.1 200 OK\r\n");
  expect(first!.headers.connection).toBe("keep-alive");
  connection.send(request);
  const [, second] = await responses(connection, 2);
  expect(second!.body.toString()).toBe("hello\n");
  connection.end();
  await connection.closed;
});

test("an HTTP/1.0 client that does not ask is closed after its answer", async () => {
  const connection = await connect(mantrid.port);
  connection.send("GET /hello.txt HTTP/1.0\r\nHost: py.test\r\n\r\n");
  const [response] = parseResponses(await connection.closed);
  expect(response!.headers.connection).toBe("close");
  expect(response!.body.toString()).toBe("hello\n");
});

test("a body that ends at the backend's close: HTTP/1.1, Connection: close, then closed", async () => {
  const connection = await connect(mantrid.port);
  connection.send("GET / HTTP/1.1\r\nHost: eof.test\r\n\r\n");
  const bytes = await connection.closed;
  expect(bytes.toString("latin1")).toStartWith("HTTP/1.1 200 OK\r\n");
  const [response] = parseResponses(bytes);
  expect(response!.headers.connection).toBe("close");
  expect(response!.body.toString()).toBe("until close");
});

describe("the head rewrite", () => {
  function parsed(text: string): [Buffer, ResponseHead] {
    const bytes = Buffer.from(text, "latin1");
    const head = new ResponseHead();
    expect(parseResponseHead(bytes, 0, bytes.length, head, DEFAULT_LIMITS)).toBeGreaterThan(0);
    return [bytes, head];
  }

  test("in place: the version byte changes, nothing moves, the body is not copied", () => {
    const [bytes, head] = parsed("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi");
    expect(clientResponseHeadInPlace(bytes, head, true, false)).toBe(0);
    expect(bytes.toString("latin1")).toBe("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
  });

  test("in place, after dropped lines and empty lines before the status line", () => {
    const text =
      "\r\nHTTP/1.0 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=5, max=1000\r\n\r\nhi";
    const [bytes, head] = parsed(text);
    const start = clientResponseHeadInPlace(bytes, head, true, true);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(bytes.toString("latin1", start)).toBe(
      "\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nhi",
    );
  });

  test("copied when the Connection line does not fit, the original left as it was", () => {
    const text = "HTTP/1.0 200 OK\r\n\r\nbody";
    const [bytes, head] = parsed(text);
    expect(clientResponseHeadInPlace(bytes, head, false, false)).toBe(-1);
    expect(bytes.toString("latin1")).toBe(text);
    const copied = clientResponseHead(bytes, head, false, false, false, bytes, 19, bytes.length);
    expect(copied.toString("latin1")).toBe("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbody");
  });

  test("an HTTP/1.1 response keeps its status line as it came", () => {
    const [bytes, head] = parsed("HTTP/1.1 404 Not Here\r\nContent-Length: 0\r\n\r\n");
    expect(clientResponseHeadInPlace(bytes, head, true, false)).toBe(0);
    expect(bytes.toString("latin1", 0, 23)).toBe("HTTP/1.1 404 Not Here\r\n");
  });
});
