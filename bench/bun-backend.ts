/**
 * The backend of `--quick` (no nginx needed): the same four paths as the
 * nginx backend, run as its own process with `bun bench/bun-backend.ts`.
 * Logs `listening on 127.0.0.1:PORT` on stderr.
 */
import { LARGE_BYTES, SMALL_BODY } from "./configs.ts";

const large = new Uint8Array(LARGE_BYTES).fill(120);

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.BENCH_BACKEND_PORT ?? 0),
  idleTimeout: 120,
  maxRequestBodySize: 2 * 1024 * 1024,
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/small") return new Response(SMALL_BODY);
    if (path === "/100k") return new Response(large);
    if (path === "/api" && request.method === "POST") {
      await request.arrayBuffer();
      return new Response("ok\n");
    }
    if (path === "/upload" && request.method === "POST") {
      const body = await request.arrayBuffer();
      return new Response(`ok ${body.byteLength}\n`);
    }
    return new Response("not found\n", { status: 404 });
  },
});

process.stderr.write(`listening on 127.0.0.1:${server.port}\n`);
process.on("SIGTERM", () => {
  server.stop(true);
  process.exit(0);
});
