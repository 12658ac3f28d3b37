/** SIGTERM/SIGINT: stop accepting, let requests in flight finish within their deadlines, save, exit 0. */
import { expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { httpBackend } from "../support/backend.ts";
import { startBinary } from "../support/binary.ts";
import { waitFor } from "../support/wait.ts";
import { connect, parseResponses, responses } from "../support/wire.ts";

test("an in-flight download completes through a SIGTERM", async () => {
  const release = Promise.withResolvers<void>();
  const body = Buffer.alloc(2 * 1024 * 1024, 5);
  const backend = await httpBackend(async (_request, response) => {
    response.writeHead(200, { "Content-Length": body.length });
    response.write(body.subarray(0, 1024));
    await release.promise;
    response.end(body.subarray(1024));
  });
  const server = await startBinary(["--bind", "127.0.0.1:0"]);
  expect(
    (await server.client("set", "dl.test", "proxy", "false", `backends=127.0.0.1:${backend.port}`))
      .code,
  ).toBe(0);
  const connection = await connect(server.port);
  connection.send("GET / HTTP/1.1\r\nHost: dl.test\r\n\r\n");
  await connection.until((bytes) => bytes.length > 1024);
  server.process.kill("SIGTERM");
  // The listener stops accepting while the download goes on.
  await waitFor(() => server.log().includes("SIGTERM: stopping"), "the SIGTERM log line");
  await expect(connect(server.port)).rejects.toThrow();
  release.resolve();
  const [response] = parseResponses(
    await connection.until((bytes) => parseResponses(bytes).length === 1),
  );
  expect(createHash("sha256").update(response!.body).digest("hex")).toBe(
    createHash("sha256").update(body).digest("hex"),
  );
  expect(await server.process.exited).toBe(0);
  expect(server.log()).toContain("stopped");
  await backend.close();
});

test("SIGINT with a stalled upload open: exits once body_timeout ends it, not after shutdown_grace", async () => {
  // Takes the head, then waits for a body that never comes.
  const headArrived = Promise.withResolvers<void>();
  const backend = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: { data: () => headArrived.resolve() },
  });
  const dir = await mkdtemp(join(tmpdir(), "mantrid-stall-"));
  const config = join(dir, "mantrid.conf");
  await writeFile(config, "body_timeout = 0.3\nlinger_timeout = 0.3\nshutdown_grace = 600\n");
  const server = await startBinary(["-c", config], dir);
  await server.client("set", "up.test", "proxy", "false", `backends=127.0.0.1:${backend.port}`);
  await server.client("set", "page.test", "static", "false", "type=test");
  const upload = await connect(server.port);
  upload.send("POST / HTTP/1.1\r\nHost: up.test\r\nContent-Length: 1000000\r\n\r\nabc");
  await headArrived.promise;
  const idle = await connect(server.port);
  idle.send("GET / HTTP/1.1\r\nHost: page.test\r\n\r\n");
  await responses(idle, 1);
  server.process.kill("SIGINT");
  await waitFor(() => server.log().includes("SIGINT: stopping"), "the SIGINT log line");
  expect(await server.process.exited).toBe(0);
  expect(parseResponses(await upload.closed).map((r) => r.status)).toEqual([408]);
  backend.stop(true);
  await rm(dir, { recursive: true, force: true });
});

test("SIGINT with only idle keep-alive clients: exits at once", async () => {
  const dir = await mkdtemp(join(tmpdir(), "mantrid-idle-"));
  const config = join(dir, "mantrid.conf");
  await writeFile(config, "shutdown_grace = 600\nidle_timeout = 600\n");
  const server = await startBinary(["-c", config], dir);
  await server.client("set", "page.test", "static", "false", "type=test");
  const clients = await Promise.all([1, 2, 3].map(() => connect(server.port)));
  for (const client of clients) client.send("GET / HTTP/1.1\r\nHost: page.test\r\n\r\n");
  await Promise.all(clients.map((client) => responses(client, 1)));
  server.process.kill("SIGINT");
  expect(await server.process.exited).toBe(0);
  await Promise.all(clients.map((client) => client.closed));
  await rm(dir, { recursive: true, force: true });
});
