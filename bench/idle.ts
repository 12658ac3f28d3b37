/**
 * `--idle N`: memory per idle keep-alive client connection, HAProxy beside
 * Mantrid. Both proxy to the nginx backend. For each in turn: its RSS, then N
 * client connections (opened in batches), each sending one keep-alive
 * `GET /small` and reading the whole answer, then left idle; RSS again, and
 * the growth over N. The connections are closed before the next target, so
 * this process holds at most N sockets at a time.
 */
import { readdirSync, readFileSync } from "node:fs";
import type { Socket } from "bun";
import { checkTarget, type Target } from "./check.ts";
import { HAPROXY_MAXCONN, SMALL_BODY } from "./configs.ts";
import { describeRun } from "./describe.ts";
import type { BenchOptions } from "./options.ts";
import {
  BENCH_HOST,
  proxyRule,
  putRule,
  startHaproxy,
  startMantrid,
  startNginxBackend,
} from "./peers.ts";
import { progress } from "./rounds.ts";
import { memoryOf } from "./rss.ts";
import { scenarioNamed } from "./scenarios.ts";
import { textTable } from "./text-table.ts";

/** Connections opened at once; the next batch waits for all their answers. */
const BATCH = 500;
/** Up to this long for one batch to connect and be answered. */
const BATCH_TIMEOUT_MS = 30_000;
/** Idle time before the second RSS reading, so the target has settled. */
const SETTLE_MS = 1000;
/** File descriptors this process keeps for itself besides the connections. */
const SPARE_FDS = 100;

const REQUEST = `GET /small HTTP/1.1\r\nHost: ${BENCH_HOST}\r\n\r\n`;

interface IdleRow {
  target: string;
  connections: number;
  rssBefore: number;
  rssAfter: number;
  /** Connections the target closed while they were meant to stay open. */
  closedByTarget: number;
}

interface Connection {
  received: string;
  answered: boolean;
  closing: boolean;
  closed: boolean;
  onAnswer?: (error?: Error) => void;
  onClose?: () => void;
}

interface Counters {
  closedByTarget: number;
}

/** This process's soft limit on open files, from /proc/self/limits. */
export function openFilesLimit(): number | undefined {
  try {
    const limits = readFileSync("/proc/self/limits", "utf8");
    const soft = /^Max open files\s+(\S+)/m.exec(limits)?.[1];
    if (soft === undefined) return undefined;
    return soft === "unlimited" ? Number.POSITIVE_INFINITY : Number(soft);
  } catch {
    return undefined;
  }
}

function openFiles(): number {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return 0;
  }
}

/**
 * Whether `text` holds one whole answer: a 200 with SMALL_BODY. False while
 * more is to come; throws on a wrong answer.
 */
function complete(text: string): boolean {
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return false;
  const head = text.slice(0, end);
  const body = text.slice(end + 4);
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1];
  if (status !== "200") throw new Error(`answered ${head.split("\r\n")[0]}`);
  if (/^connection:\s*close/im.test(head)) throw new Error("answered with Connection: close");
  const length = /^content-length:\s*(\d+)/im.exec(head)?.[1];
  if (length !== undefined) {
    if (body.length < Number(length)) return false;
    if (body !== SMALL_BODY) throw new Error(`answered ${JSON.stringify(body.slice(0, 100))}`);
    return true;
  }
  if (/^transfer-encoding:\s*chunked/im.test(head)) return body.endsWith("0\r\n\r\n");
  throw new Error("answered without Content-Length or chunked body");
}

/** Opens one connection, sends the request and resolves once the whole answer is in. */
async function openOne(
  port: number,
  counters: Counters,
): Promise<{ socket: Socket<Connection>; answered: Promise<void> }> {
  const state: Connection = { received: "", answered: false, closing: false, closed: false };
  let settle: (error?: Error) => void = () => {};
  const answered = new Promise<void>((resolve, reject) => {
    settle = (error) => (error === undefined ? resolve() : reject(error));
  });
  state.onAnswer = settle;
  const socket = await Bun.connect<Connection>({
    hostname: "127.0.0.1",
    port,
    data: state,
    socket: {
      open(socket) {
        socket.write(REQUEST);
      },
      data(socket, chunk) {
        const conn = socket.data;
        if (conn.answered) return;
        conn.received += chunk.toString("latin1");
        try {
          if (!complete(conn.received)) return;
        } catch (error) {
          conn.answered = true;
          conn.onAnswer?.(error as Error);
          return;
        }
        conn.answered = true;
        conn.received = "";
        conn.onAnswer?.();
      },
      close(socket) {
        const conn = socket.data;
        conn.closed = true;
        if (!conn.closing) counters.closedByTarget++;
        if (!conn.answered) {
          conn.answered = true;
          conn.onAnswer?.(new Error("closed before a whole answer"));
        }
        conn.onClose?.();
      },
      error(socket, error) {
        const conn = socket.data;
        if (!conn.answered) {
          conn.answered = true;
          conn.onAnswer?.(error);
        }
      },
    },
  });
  return { socket, answered };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: Timer | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Closes every socket and waits (a while) until each has seen its close. */
async function closeAll(sockets: Socket<Connection>[]): Promise<void> {
  const closed = sockets.map(
    (socket) =>
      new Promise<void>((resolve) => {
        const conn = socket.data;
        conn.closing = true;
        if (conn.closed) return resolve();
        conn.onClose = resolve;
        socket.end();
      }),
  );
  const timedOut = await Promise.race([
    Promise.all(closed).then(() => false),
    Bun.sleep(10_000).then(() => true),
  ]);
  if (timedOut) {
    for (const socket of sockets) if (!socket.data.closed) socket.terminate();
  }
}

/** N idle keep-alive connections to `target`: RSS before and after. */
async function measureIdle(target: Target, count: number): Promise<IdleRow> {
  await checkTarget(target, scenarioNamed("keepalive-small"), BENCH_HOST);
  await Bun.sleep(SETTLE_MS);
  const rssBefore = memoryOf(target.pid).rss;
  const counters: Counters = { closedByTarget: 0 };
  const sockets: Socket<Connection>[] = [];
  try {
    while (sockets.length < count) {
      const size = Math.min(BATCH, count - sockets.length);
      const batch = Array.from({ length: size }, async () => {
        const opened = await openOne(target.port, counters);
        sockets.push(opened.socket);
        await opened.answered;
      });
      const what = `${target.name}: connections ${sockets.length + 1}-${sockets.length + size}`;
      try {
        await withTimeout(Promise.all(batch), BATCH_TIMEOUT_MS, what);
      } catch (error) {
        throw new Error(
          `${what} (of ${count}) failed: ${(error as Error).message}; ${openFiles()} files open here`,
        );
      }
    }
    progress(`${target.name}: ${sockets.length} connections open and idle`);
    await Bun.sleep(SETTLE_MS);
    const rssAfter = memoryOf(target.pid).rss;
    const open = sockets.filter((socket) => !socket.data.closed).length;
    if (open < count) progress(`${target.name}: ${count - open} closed by the target before RSS`);
    return {
      target: target.name,
      connections: count,
      rssBefore,
      rssAfter,
      closedByTarget: counters.closedByTarget,
    };
  } finally {
    await closeAll(sockets);
  }
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const growth = (row: IdleRow) => row.rssAfter - row.rssBefore;
const kibPerConnection = (row: IdleRow) => growth(row) / 1024 / row.connections;

export function formatIdleTable(rows: IdleRow[]): string {
  const header = [
    "target",
    "connections",
    "RSS before",
    "RSS after",
    "growth MiB",
    "KiB/connection",
  ];
  const lines = rows.map((row) => [
    row.target,
    String(row.connections),
    `${mib(row.rssBefore)} MiB`,
    `${mib(row.rssAfter)} MiB`,
    mib(growth(row)),
    kibPerConnection(row).toFixed(2),
  ]);
  const notes = rows
    .filter((row) => row.closedByTarget > 0)
    .map((row) => `${row.target}: ${row.closedByTarget} connections closed by the target`);
  return [...textTable(header, lines), ...(notes.length > 0 ? ["", ...notes] : [])].join("\n");
}

/** `idle <target> <growth MiB>`, then `idle-kib <target> <KiB per connection>`. */
export function formatIdleLines(rows: IdleRow[]): string {
  return [
    ...rows.map((row) => `idle ${row.target} ${mib(growth(row))}`),
    ...rows.map((row) => `idle-kib ${row.target} ${kibPerConnection(row).toFixed(2)}`),
  ].join("\n");
}

export async function runIdle(options: BenchOptions, dir: string): Promise<number> {
  const count = options.idle!;
  const limit = openFilesLimit();
  const needed = count + openFiles() + SPARE_FDS;
  if (limit !== undefined && needed > limit) {
    throw new Error(
      `--idle ${count} needs about ${needed} open files in this process, but its limit ` +
        `(ulimit -n) is ${limit}: raise the hard limit or use a smaller N`,
    );
  }
  // Room for N and the few connections of the checks, in both.
  const maxconn = Math.max(HAPROXY_MAXCONN, count + SPARE_FDS);

  const backend = await startNginxBackend(dir);
  const haproxy = await startHaproxy(dir, backend.port, maxconn);
  const mantrid = await startMantrid(dir, { workers: options.workers, maxConnections: maxconn });
  await putRule(mantrid.api, BENCH_HOST, proxyRule(backend.port));
  const targets: Target[] = [haproxy, mantrid].map((peer) => ({
    name: peer.name,
    port: peer.port,
    pid: peer.pid,
  }));

  console.log(
    describeRun(["haproxy", "nginx"], {
      mode: `--idle ${count}`,
      connections: `${count} per target, opened ${BATCH} at a time, one keep-alive GET /small (Host: ${BENCH_HOST}) each, then idle`,
      rss: `VmRSS after one checked request and ${SETTLE_MS} ms, and ${SETTLE_MS} ms after the last connection is answered`,
      haproxy: `maxconn ${maxconn}, nbthread 1`,
      mantrid: `max_connections ${maxconn}, ${options.workers === undefined ? "default workers" : `--workers ${options.workers}`}`,
      "open files": `limit ${limit ?? "?"} in the bench process`,
    }),
  );

  const rows: IdleRow[] = [];
  for (const target of targets) {
    const row = await measureIdle(target, count);
    rows.push(row);
    progress(
      `${row.target}: +${mib(growth(row))} MiB, ${kibPerConnection(row).toFixed(2)} KiB per connection`,
    );
  }

  console.log("");
  console.log(formatIdleTable(rows));
  console.log("");
  console.log(formatIdleLines(rows));
  return rows.every((row) => row.closedByTarget === 0) ? 0 : 1;
}
