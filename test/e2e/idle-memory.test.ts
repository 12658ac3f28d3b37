/** Ten thousand idle keep-alive connections must cost Mantrid little memory. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type RunningBinary, rssOf, startBinary } from "../support/binary.ts";
import { connect, type RawConnection, responses } from "../support/wire.ts";

const COUNT = 10_000;
let server: RunningBinary;
beforeAll(async () => {
  server = await startBinary();
  expect((await server.client("set", "idle.test", "empty", "false", "code=204")).code).toBe(0);
});
afterAll(() => server.stop("SIGKILL"));

test(`${COUNT} idle keep-alive connections add at most 30 MB`, async () => {
  const pid = server.process.pid;
  // Warm up: one connection through a whole request, so lazily built parts exist.
  const first = await connect(server.port);
  first.send("GET / HTTP/1.1\r\nHost: idle.test\r\n\r\n");
  await responses(first, 1);
  const baseline = await rssOf(pid);
  const open: RawConnection[] = [first];
  for (let batch = 0; batch < COUNT / 500; batch++) {
    const connections = await Promise.all(Array.from({ length: 500 }, () => connect(server.port)));
    // Each makes one request, then stays open and idle, as a browser's keep-alive does.
    for (const connection of connections)
      connection.send("GET / HTTP/1.1\r\nHost: idle.test\r\n\r\n");
    await Promise.all(connections.map((connection) => responses(connection, 1)));
    open.push(...connections);
  }
  const growth = (await rssOf(pid)) - baseline;
  console.log(`idle connections: ${COUNT} added ${(growth / 2 ** 20).toFixed(1)} MiB to RSS`);
  expect(growth).toBeLessThan(30 * 1024 * 1024);
  for (const connection of open) connection.destroy();
}, 120_000);
