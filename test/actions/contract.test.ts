/**
 * The contract every action keeps, run against each of them (as Hono runs one
 * set of cases against every router): given a request, an action either
 * answers it at once with one whole response, or takes it (a listener, a held
 * request) and answers it later; the answer says what `keepAlive` said, a HEAD
 * gets no body, and nothing is sent after the answer.
 */

import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Action } from "../../src/actions/action.ts";
import { type ActionContext, compileRule } from "../../src/actions/compile.ts";
import { Router } from "../../src/actions/router.ts";
import { SpinRoom } from "../../src/actions/spin.ts";
import { builtinAnswers } from "../../src/actions/static.ts";
import { BackendPool } from "../../src/backend/pool.ts";
import { BackendStates } from "../../src/backend/state.ts";
import { BackendWaits } from "../../src/backend/waits.ts";
import { DEFAULT_LIMITS } from "../../src/http/limits.ts";
import { Forwarder } from "../../src/proxy/forwarder.ts";
import { parseRule } from "../../src/rules/schema.ts";
import { RuleTable } from "../../src/rules/table.ts";
import { PageStore } from "../../src/static/pages.ts";
import { StatsBook } from "../../src/stats/host-stats.ts";
import { freePort } from "../support/backend.ts";
import { FakeExchange } from "../support/fake-exchange.ts";
import { waitFor } from "../support/wait.ts";
import { parseResponses } from "../support/wire.ts";

const dir = await mkdtemp(join(tmpdir(), "mantrid-actions-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

const pages = new PageStore(dir);
const answers = builtinAnswers(pages);
const states = new BackendStates();
const pool = new BackendPool({ idleTimeout: 60, maxIdlePerBackend: 8 });
const context: ActionContext = {
  pages,
  answers,
  built: new WeakMap(),
  forward: new Forwarder({
    pool,
    states,
    waits: new BackendWaits(states),
    connectTimeout: 5,
    backendTimeout: 7,
    timeoutPage: pages.builtin("timeout"),
    limits: DEFAULT_LIMITS,
  }),
  spin: null,
  https: { port: 443 },
};
const table = new RuleTable<Action>((_key, rule) => compileRule(context, rule));
const router = new Router(table, new StatsBook(), answers);
context.spin = new SpinRoom(router, pages.builtin("timeout"), 100, (listener) =>
  table.onChange(listener),
);
const closedPort = await freePort();
// Accepts and never answers: a request to it stays taken until its client leaves.
const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
afterAll(() => silent.stop(true));

function action(triple: unknown[]): Action {
  const parsed = parseRule(triple);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed));
  return compileRule(context, parsed.value);
}

/** Each action, and how a test brings a taken request to its answer. */
const ACTIONS: {
  name: string;
  action: () => Action;
  status: number;
  finish?: (exchange: FakeExchange) => Promise<void>;
  /** Resolves once what a taken request started has come to rest. */
  settled?: () => Promise<void>;
}[] = [
  { name: "static", action: () => action(["static", { type: "test" }, false]), status: 200 },
  {
    name: "redirect",
    action: () => action(["redirect", { redirect_to: "https://b.test" }, false]),
    status: 302,
  },
  { name: "empty", action: () => action(["empty", { code: 503 }, false]), status: 503 },
  { name: "unknown", action: () => action(["unknown", {}, false]), status: 503 },
  { name: "no_hosts", action: () => action(["no_hosts", {}, false]), status: 503 },
  {
    name: "spin",
    action: () => action(["spin", { timeout: 30 }, false]),
    status: 504,
    // The hold ends when its deadline passes.
    finish: async (exchange) => exchange.fireDeadline(),
  },
  {
    name: "proxy (refused)",
    action: () => action(["proxy", { backends: [`127.0.0.1:${closedPort}`] }, false]),
    status: 502,
    // The backend refuses: the answer comes once the connect has failed.
    finish: (exchange) =>
      new Promise((resolve) => {
        const check = () => (exchange.responses.length > 0 ? resolve() : setImmediate(check));
        check();
      }),
  },
  {
    name: "proxy (no answer)",
    action: () => action(["proxy", { backends: [`127.0.0.1:${silent.port}`] }, false]),
    status: 504,
    finish: async (exchange) => {
      // Connected and sent: the backend's time is up.
      await waitFor(() => exchange.deadline?.seconds === 7, "the send");
      exchange.fireDeadline();
    },
    // The connection that opened after the client left is kept for the next request.
    settled: () => waitFor(() => pool.idleCount === 1, "the late connection to be pooled"),
  },
];

const REQUESTS: { name: string; text: string; keepAlive: boolean; head: boolean }[] = [
  {
    name: "GET, keep-alive",
    text: "GET /p?q HTTP/1.1\r\nHost: a.test\r\n\r\n",
    keepAlive: true,
    head: false,
  },
  {
    name: "GET, close",
    text: "GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n",
    keepAlive: false,
    head: false,
  },
  { name: "HEAD", text: "HEAD / HTTP/1.1\r\nHost: a.test\r\n\r\n", keepAlive: true, head: true },
  {
    name: "HTTP/1.0",
    text: "GET / HTTP/1.0\r\nHost: a.test\r\n\r\n",
    keepAlive: false,
    head: false,
  },
];

for (const subject of ACTIONS) {
  describe(subject.name, () => {
    for (const request of REQUESTS) {
      test(`${request.name}: one whole answer, as keepAlive says, nothing after it`, async () => {
        const exchange = new FakeExchange(request.text);
        subject.action().run(exchange);
        if (subject.finish) {
          // Taken, not answered: the action listens for the client going away.
          expect(exchange.responses).toEqual([]);
          expect(exchange.listener).not.toBeNull();
          await subject.finish(exchange);
        }
        expect(exchange.responses).toHaveLength(1);
        expect(exchange.sent).toEqual([]);
        const bytes = Buffer.from(exchange.responses[0]!, "latin1");
        const [response, ...rest] = parseResponses(bytes, [request.head ? "HEAD" : "GET"]);
        expect(rest).toEqual([]);
        expect(response!.length).toBe(bytes.length);
        expect(response!.status).toBe(subject.status);
        expect(response!.headers.connection).toBe(request.keepAlive ? "keep-alive" : "close");
        if (request.head) expect(response!.body.length).toBe(0);
        expect(exchange.listener).toBeNull();
        expect(exchange.deadline).toBeNull();
        expect(exchange.held).toBe(false);
      });
    }

    if (subject.finish) {
      test("a client that leaves while the request is taken: the action lets go, answers nothing", async () => {
        const exchange = new FakeExchange(REQUESTS[0]!.text);
        subject.action().run(exchange);
        exchange.closed = true;
        exchange.listener!.abandoned();
        exchange.listener = null;
        exchange.deadline = null;
        await subject.settled?.();
        expect(exchange.responses).toEqual([]);
      });
    }
  });
}
