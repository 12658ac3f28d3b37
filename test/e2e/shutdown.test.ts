/** SIGTERM: stop accepting, let a download in flight finish, save, exit 0. */
import { expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { httpBackend } from "../support/backend.ts";
import { startBinary } from "../support/binary.ts";
import { waitFor } from "../support/wait.ts";
import { connect, parseResponses } from "../support/wire.ts";

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
