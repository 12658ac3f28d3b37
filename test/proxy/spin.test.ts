/** Spin: held requests wake on the rule change and run the new action on the original bytes. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { httpBackend, namedBackend } from "../support/backend.ts";
import { startMantrid, type TestMantrid } from "../support/mantrid.ts";
import { waitFor } from "../support/wait.ts";
import { connect, parseResponses, type RawConnection } from "../support/wire.ts";

let mantrid: TestMantrid;
beforeAll(async () => {
  mantrid = await startMantrid();
});
afterAll(() => mantrid.stop());

async function openRequests(host: string): Promise<number> {
  const response = await fetch(`${mantrid.url}/stats/${host}`);
  if (response.status !== 200) return 0;
  return ((await response.json()) as { open_requests: number }).open_requests;
}

test("a backend restarts behind spin and no request fails", async () => {
  const first = await namedBackend("v1");
  const port = first.port;
  const rule = ["proxy", { backends: [`127.0.0.1:${port}`] }, false];
  await mantrid.set("app.test", rule);

  const before = await connect(mantrid.port);
  before.send("GET / HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n");
  expect(parseResponses(await before.closed)[0]!.body.toString()).toBe("v1");

  await mantrid.set("app.test", ["spin", {}, false]);
  const during = await Promise.all(
    Array.from({ length: 25 }, async (_, i) => {
      const connection = await connect(mantrid.port);
      connection.send(
        `POST /n/${i} HTTP/1.1\r\nHost: app.test\r\nContent-Length: ${String(i).length}\r\nConnection: close\r\n\r\n${i}`,
      );
      return connection;
    }),
  );
  await waitFor(async () => (await openRequests("app.test")) === 25, "25 held requests");

  await first.close();
  const second = await httpBackend((request, response) => {
    let body = "";
    request.on("data", (part: Buffer) => {
      body += part.toString();
    });
    request.on("end", () => response.end(`v2 ${request.url} ${body}`));
  }, port);
  await mantrid.set("app.test", rule);

  const answers = await Promise.all(during.map(async (c) => parseResponses(await c.closed)[0]!));
  answers.forEach((response, i) => {
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe(`v2 /n/${i} ${i}`);
  });
  expect(await openRequests("app.test")).toBe(0);
  await second.close();
});

test("a held request runs whatever the rule becomes", async () => {
  await mantrid.set("hold.test", ["spin", { timeout: 60 }, true]);
  const connection = await connect(mantrid.port);
  connection.send("GET /x HTTP/1.1\r\nHost: www.hold.test\r\nConnection: close\r\n\r\n");
  await waitFor(async () => (await openRequests("hold.test")) === 1, "a held request");
  // A change elsewhere leaves it waiting.
  await mantrid.set("other.test", ["static", { type: "test" }, false]);
  expect(await openRequests("hold.test")).toBe(1);
  await mantrid.set("hold.test", ["redirect", { redirect_to: "elsewhere.test" }, true]);
  const [response] = parseResponses(await connection.closed);
  expect(response!.status).toBe(302);
  expect(response!.headers.location).toBe("http://elsewhere.test/x");
});

test("spin gives up after its timeout with the timeout page (504)", async () => {
  await mantrid.set("forever.test", ["spin", { timeout: 0.2 }, false]);
  const connection = await connect(mantrid.port);
  connection.send("GET / HTTP/1.1\r\nHost: forever.test\r\nConnection: close\r\n\r\n");
  const [response] = parseResponses(await connection.closed);
  expect(response!.status).toBe(504);
  expect(response!.body.toString()).toContain("Service unavailable");
});

test("a client that leaves while held is forgotten", async () => {
  await mantrid.set("leave.test", ["spin", {}, false]);
  const connection = await connect(mantrid.port);
  connection.send("GET / HTTP/1.1\r\nHost: leave.test\r\n\r\n");
  await waitFor(async () => (await openRequests("leave.test")) === 1, "a held request");
  connection.destroy();
  await waitFor(async () => (await openRequests("leave.test")) === 0, "the held request to go");
  await mantrid.set("leave.test", ["static", { type: "test" }, false]);
});

test("two thousand held requests all wake on one change", async () => {
  await mantrid.set("crowd.test", ["spin", {}, false]);
  // In batches, so the listen backlog never overflows and every connection is accepted at once.
  const connections: RawConnection[] = [];
  for (let batch = 1; batch <= 10; batch++) {
    const more = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const connection = await connect(mantrid.port);
        connection.send("GET / HTTP/1.1\r\nHost: crowd.test\r\nConnection: close\r\n\r\n");
        return connection;
      }),
    );
    connections.push(...more);
    await waitFor(async () => (await openRequests("crowd.test")) === batch * 200, "held requests");
  }
  await mantrid.set("crowd.test", ["empty", { code: 200 }, false]);
  const statuses = await Promise.all(
    connections.map(async (c) => parseResponses(await c.closed)[0]?.status),
  );
  expect(statuses.every((status) => status === 200)).toBe(true);
});
