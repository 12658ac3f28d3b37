/**
 * A TLS load of a new connection per request, run as its own process so its
 * CPU is never counted as the target's: `connections` loops, each opening a
 * connection (SNI from a list of names, taken in turn), sending
 * `GET <path>` with `Connection: close`, reading the answer to its end, and
 * starting over, for a fixed time. With `resume`, each loop offers the session
 * its last connection got (a TLS 1.3 ticket): no certificate, no signature.
 * wrk resumes sessions too, and cannot turn it off nor send SNI other than
 * the URL's host; `openssl s_time` sends no SNI and opens one connection at a
 * time: neither can make both loads.
 *
 *   bun bench/tls-handshakes.ts '{"port":8443,"namesFile":"/tmp/names",...}'
 *
 * prints one JSON line: a LoadResult and `resumed`, the connections that were.
 */
import { readFileSync } from "node:fs";
import { loadResult } from "./loadgen.ts";
import type { LoadResult } from "./result.ts";

export interface HandshakeLoad {
  port: number;
  /** SNI names, one a line, used in turn (a listener with many certificates gets them all). */
  namesFile: string;
  /** The Host header (the rule's hostname). */
  host: string;
  path: string;
  resume: boolean;
  connections: number;
  durationSeconds: number;
  /** Stop after this many connections (the names' count: each name once); none: time alone. */
  total?: number;
}

export interface HandshakeResult extends LoadResult {
  resumed: number;
}

/** Bun's TLS socket methods that its types leave out. */
interface SessionSocket {
  setSession(session: Buffer): void;
  getSession(): Buffer | undefined;
  isSessionReused(): boolean;
}

interface Attempt {
  started: number;
  received: string;
  ok: boolean;
  reused: boolean;
}

/** An attempt that has not ended by then is given up as an error. */
const ATTEMPT_LIMIT_MS = 10_000;

export async function runHandshakes(load: HandshakeLoad): Promise<HandshakeResult> {
  const names = readFileSync(load.namesFile, "utf8")
    .split("\n")
    .filter((name) => name !== "");
  const latencies: number[] = [];
  let errors = 0;
  let resumed = 0;
  let readBytes = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + load.durationSeconds * 1000;

  const once = (session: Buffer | undefined, keep: (session: Buffer) => void) =>
    new Promise<void>((resolve) => {
      const name = names[next++ % names.length]!;
      const request = `GET ${load.path} HTTP/1.1\r\nHost: ${load.host}\r\nConnection: close\r\n\r\n`;
      const attempt: Attempt = {
        started: performance.now(),
        received: "",
        ok: false,
        reused: false,
      };
      let socket: { terminate(): void } | null = null;
      const limit = setTimeout(() => socket?.terminate(), ATTEMPT_LIMIT_MS);
      const settle = () => {
        clearTimeout(limit);
        if (attempt.ok) {
          latencies.push(performance.now() - attempt.started);
          if (attempt.reused) resumed++;
        } else errors++;
        resolve();
      };
      Bun.connect({
        hostname: "127.0.0.1",
        port: load.port,
        tls: { serverName: name, rejectUnauthorized: false },
        socket: {
          open(opened) {
            socket = opened;
            if (session !== undefined) (opened as unknown as SessionSocket).setSession(session);
          },
          handshake(socket, success) {
            if (!success) return void socket.terminate();
            attempt.reused = (socket as unknown as SessionSocket).isSessionReused();
            socket.write(request);
          },
          data(socket, chunk) {
            readBytes += chunk.length;
            if (attempt.received.length < 16) attempt.received += chunk.toString("latin1");
            // TLS 1.3 tickets come after the handshake: take the newest.
            const ticket = (socket as unknown as SessionSocket).getSession();
            if (ticket !== undefined) keep(ticket);
          },
          close() {
            attempt.ok = attempt.received.startsWith("HTTP/1.1 200");
            settle();
          },
          connectError() {
            settle();
          },
        },
      }).catch(() => {});
    });

  const loop = async () => {
    let session: Buffer | undefined;
    while (performance.now() < deadline && (load.total === undefined || next < load.total)) {
      await once(load.resume ? session : undefined, (ticket) => {
        session = ticket;
      });
    }
  };
  await Promise.all(Array.from({ length: load.connections }, loop));

  return { ...loadResult(latencies, readBytes, errors, started), resumed };
}

if (import.meta.main) {
  const load = JSON.parse(process.argv[2] ?? "{}") as HandshakeLoad;
  console.log(JSON.stringify(await runHandshakes(load)));
}
