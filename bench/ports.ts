/** Free TCP ports on 127.0.0.1, for peers whose config file needs a fixed port. */

const handedOut = new Set<number>();

/** A port the OS had free a moment ago (and not handed out before by this process). */
export function freePort(): number {
  for (let attempt = 0; attempt < 20; attempt++) {
    const listener = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: { data() {} },
    });
    const port = listener.port;
    listener.stop(true);
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error("no free port found");
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const socket = await Bun.connect({
        hostname: "127.0.0.1",
        port,
        socket: { data() {} },
      });
      socket.end();
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(`nothing listens on 127.0.0.1:${port}: ${(error as Error).message}`);
      }
      await Bun.sleep(50);
    }
  }
}
