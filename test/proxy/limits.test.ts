/** Many and slow clients: connection and spin limits answer fast; dribblers do not starve others. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startMantrid, type TestMantrid } from "../support/mantrid.ts";
import { waitFor } from "../support/wait.ts";
import { connect, parseResponses, type RawConnection } from "../support/wire.ts";

let mantrid: TestMantrid;
beforeAll(async () => {
  mantrid = await startMantrid({ maxSpinning: 3, headTimeout: 1 });
  await mantrid.set("page.test", ["static", { type: "test" }, false]);
  await mantrid.set("wait.test", ["spin", {}, false]);
});
afterAll(() => mantrid.stop());

test("a thousand dribbling clients do not stop a normal one, and all are closed after head_timeout", async () => {
  // In batches of 250, under the listen backlog, so every connection is accepted at once.
  const dribblers: RawConnection[] = [];
  for (let batch = 0; batch < 4; batch++) {
    const more = await Promise.all(
      Array.from({ length: 250 }, async () => {
        const connection = await connect(mantrid.port);
        connection.send("GET / HTTP/1.1\r\nHost: page");
        return connection;
      }),
    );
    dribblers.push(...more);
  }
  const normal = await connect(mantrid.port);
  normal.send("GET / HTTP/1.1\r\nHost: page.test\r\nConnection: close\r\n\r\n");
  const [served] = parseResponses(await normal.closed);
  expect(served!.status).toBe(200);
  const ends = await Promise.all(dribblers.map((connection) => connection.closed));
  expect(ends.every((bytes) => bytes.toString("latin1").startsWith("HTTP/1.1 408"))).toBe(true);
});

test("beyond max_connections: a fast 503 and close", async () => {
  const small = await startMantrid({ maxConnections: 50 });
  await small.set("page.test", ["static", { type: "test" }, false]);
  // 51 connections for 50 places: exactly one is refused with a 503 and closed.
  const all = await Promise.all(Array.from({ length: 51 }, () => connect(small.port)));
  const refused = await Promise.any(
    all.map(async (connection) => ({ connection, bytes: await connection.closed })),
  );
  expect(refused.bytes.toString("latin1")).toStartWith("HTTP/1.1 503");
  const others = all.filter((connection) => connection !== refused.connection);
  // The other fifty are served.
  for (const connection of others.slice(0, 3)) {
    connection.send("GET / HTTP/1.1\r\nHost: page.test\r\nConnection: close\r\n\r\n");
    expect(parseResponses(await connection.closed)[0]!.status).toBe(200);
  }
  for (const connection of others) connection.destroy();
  await small.stop();
});

test("beyond max_spinning: a fast 503, the held ones still wake", async () => {
  const held = await Promise.all(
    Array.from({ length: 3 }, async () => {
      const connection = await connect(mantrid.port);
      connection.send("GET / HTTP/1.1\r\nHost: wait.test\r\nConnection: close\r\n\r\n");
      return connection;
    }),
  );
  await waitFor(async () => {
    const stats = (await (await fetch(`${mantrid.url}/stats/wait.test`)).json()) as {
      open_requests: number;
    };
    return stats.open_requests === 3;
  }, "three held requests");
  const fourth = await connect(mantrid.port);
  fourth.send("GET / HTTP/1.1\r\nHost: wait.test\r\nConnection: close\r\n\r\n");
  expect(parseResponses(await fourth.closed)[0]!.status).toBe(503);
  await mantrid.set("wait.test", ["static", { type: "test" }, false]);
  for (const connection of held)
    expect(parseResponses(await connection.closed)[0]!.status).toBe(200);
});

test("max_request_line and max_headers from the configuration: 414 and 431", async () => {
  const strict = await startMantrid({ maxRequestLine: 64, maxHeaders: 3 });
  await strict.set("page.test", ["static", { type: "test" }, false]);
  const long = await connect(strict.port);
  long.send(`GET /${"a".repeat(100)} HTTP/1.1\r\nHost: page.test\r\n\r\n`);
  expect(parseResponses(await long.closed)[0]!.status).toBe(414);
  const many = await connect(strict.port);
  many.send("GET / HTTP/1.1\r\nHost: page.test\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n");
  expect(parseResponses(await many.closed)[0]!.status).toBe(431);
  const fine = await connect(strict.port);
  fine.send("GET / HTTP/1.1\r\nHost: page.test\r\nConnection: close\r\n\r\n");
  expect(parseResponses(await fine.closed)[0]!.status).toBe(200);
  await strict.stop();
});
