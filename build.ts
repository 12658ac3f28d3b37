/**
 * `bun run build`: one self-contained executable, dist/mantrid, with the
 * built-in pages embedded. `--bytecode` roughly halves its start-up time.
 */
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import type { BunPlugin } from "bun";

/**
 * The etcd client (`etcd3`) reads its gRPC `.proto` files from node_modules
 * when it loads, by a path fixed at build time: they are compiled in instead.
 */
const etcdProtos: BunPlugin = {
  name: "etcd3-protos",
  setup(build) {
    build.onLoad({ filter: /etcd3[\\/]lib[\\/]connection-pool\.js$/ }, async (args) => {
      const source = await Bun.file(args.path).text();
      const call = /\(0, proto_loader_1\.loadSync\)\(`\$\{__dirname\}\/\.\.\/proto\/rpc\.proto`,/;
      if (!call.test(source))
        throw new Error(`${args.path} no longer loads rpc.proto as build.ts expects`);
      const { loadProtosWithOptionsSync } = await import("@grpc/proto-loader/build/src/util.js");
      const root = loadProtosWithOptionsSync(join(dirname(args.path), "../proto/rpc.proto"), {
        keepCase: true,
      });
      const json = JSON.stringify(root.toJSON());
      return {
        contents: source.replace(call, () => `(0, proto_loader_1.fromJSON)(${json},`),
        loader: "js",
      };
    });
  },
};

mkdirSync("dist", { recursive: true });
const build = await Bun.build({
  entrypoints: ["src/main.ts"],
  compile: { outfile: "dist/mantrid" },
  bytecode: true,
  minify: true,
  sourcemap: "linked",
  plugins: [etcdProtos],
});
for (const message of build.logs) console.error(message);
if (!build.success) process.exit(1);
console.log("built dist/mantrid");
