/**
 * The first TLS record that a real client sends (its ClientHello), caught by
 * a plain TCP server on a port the OS chose, which then hangs up.
 */
import { createServer } from "node:net";
import { connect as tlsConnect } from "node:tls";

/** Starts a client against `port`; returns how to stop it. Calls `failed` if it gives up first. */
export type Launch = (port: number, failed: (error: Error) => void) => () => Promise<void>;

const LIMIT_MS = 10_000;

export async function captureHello(launch: Launch): Promise<Uint8Array> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as { port: number };
  let stop = async () => {};
  try {
    return await new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no hello in ${LIMIT_MS} ms`)), LIMIT_MS);
      server.on("connection", (socket) => {
        let got = Buffer.alloc(0);
        socket.on("error", () => {});
        socket.on("data", (chunk: Buffer) => {
          got = Buffer.concat([got, chunk]);
          const end = got.length >= 5 ? 5 + got.readUInt16BE(3) : Number.POSITIVE_INFINITY;
          if (got.length < end) return;
          clearTimeout(timer);
          resolve(new Uint8Array(got.subarray(0, end)));
          socket.destroy();
        });
      });
      stop = launch(port, (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  } finally {
    await stop();
    server.close();
  }
}

/** node:tls `connect`, as an HTTPS client of this runtime would call it. */
export function nodeTls(options: { servername?: string; ALPNProtocols?: string[] }): Launch {
  return (port) => {
    const socket = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false, ...options });
    socket.on("error", () => {});
    return async () => {
      socket.destroy();
    };
  };
}

/** A command line run with the port put in for `{port}`. */
export function command(argv: string[]): Launch {
  return (port, failed) => {
    const child = Bun.spawn(
      argv.map((arg) => arg.replaceAll("{port}", String(port))),
      { stdin: "pipe", stdout: "ignore", stderr: "pipe" },
    );
    let stopping = false;
    child.exited.then(async (code) => {
      if (stopping) return;
      const stderr = await new Response(child.stderr).text();
      failed(new Error(`${argv[0]} exited with ${code} before its hello: ${stderr}`));
    });
    return async () => {
      stopping = true;
      child.kill();
      await child.exited;
    };
  };
}
