/** `--wait`: a refused connection is tried again until the server answers, or the time is up. */
import { afterEach, expect, spyOn, test } from "bun:test";
import { Connection } from "../../src/client/connection.ts";
import { Failure } from "../../src/client/errors.ts";
import { closedPort } from "../management/harness.ts";
import { client } from "./harness.ts";

let server: ReturnType<typeof Bun.serve> | undefined;
afterEach(async () => {
  await server?.stop(true);
  server = undefined;
});

test("the server starts only after the client was refused, and the command still succeeds", async () => {
  const port = await closedPort();
  const realFetch = globalThis.fetch;
  let refused = 0;
  // Starts the server the first time the client is refused: no guessing how long to sleep.
  const spy = spyOn(globalThis, "fetch").mockImplementation((async (
    ...args: Parameters<typeof fetch>
  ) => {
    try {
      return await realFetch(...args);
    } catch (error) {
      if (refused++ === 0) {
        server = Bun.serve({
          hostname: "127.0.0.1",
          port,
          fetch: () => Response.json({ "a.com": ["spin", { timeout: 120 }, true] }),
        });
      }
      throw error;
    }
  }) as typeof fetch);
  try {
    const outcome = await client(["list", "--wait", "--url", `http://127.0.0.1:${port}`]);
    expect(refused).toBeGreaterThan(0);
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toEndWith(
      "a.com                               spin                      true    \n",
    );
  } finally {
    spy.mockRestore();
  }
});

test("without --wait, nothing is tried again", async () => {
  const url = `http://127.0.0.1:${await closedPort()}`;
  const outcome = await client(["list", "--url", url]);
  expect(outcome.code).toBe(1);
  expect(outcome.stderr).toContain("(connection refused);");
});

test("the wait ends, and the line says how long it was", async () => {
  const url = `http://127.0.0.1:${await closedPort()}`;
  const connection = new Connection(url, undefined, 0.3);
  const started = Date.now();
  const failure = await connection.request("GET", "/hostname/").catch((error) => error);
  expect(failure).toBeInstanceOf(Failure);
  expect(failure.message).toBe(
    `cannot reach the management API at ${url} (connection refused for 0.3 s); ` +
      "is mantrid running? set --url or MANTRID_URL",
  );
  expect(Date.now() - started).toBeGreaterThanOrEqual(300);
});
