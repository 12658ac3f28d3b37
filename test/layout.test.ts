/**
 * The shape of the source tree: no import cycles (type imports count: a cycle
 * of types is still two modules that cannot be read apart), a test folder for
 * every source folder, and small files, or a comment that says why one is not.
 */
import { expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const SRC = join(ROOT, "src");
/** A file longer than this says why near its top, in a comment with "why this file is long". */
const MAX_LINES = 300;

function sourceFiles(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

const files = sourceFiles(SRC);
const IMPORT_RE = /^\s*(?:import|export)\b[^;]*?\bfrom\s*"(\.[^"]+)"|^\s*import\s*"(\.[^"]+)"/gm;

/** Each file's imports of other files in src/ (relative specifiers only). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const found: string[] = [];
  for (const match of text.matchAll(IMPORT_RE)) {
    const target = resolve(dirname(file), match[1] ?? match[2]!);
    if (target.endsWith(".ts") && existsSync(target)) found.push(target);
  }
  return found;
}

test("no import cycles in src/", () => {
  const graph = new Map(files.map((file) => [file, importsOf(file)]));
  const cycles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === "open") {
        const cycle = stack.slice(stack.indexOf(next)).concat(next);
        cycles.push(cycle.map((f) => relative(SRC, f)).join(" -> "));
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of files) if (!state.has(file)) visit(file);
  expect(cycles).toEqual([]);
});

test("the cycle check sees imports, type-only ones too", () => {
  const transaction = importsOf(join(SRC, "proxy/transaction.ts")).map((f) => relative(SRC, f));
  expect(transaction).toContain("proxy/exchange.ts");
  expect(transaction).toContain("http/request-head.ts");
});

test("every folder of src/ has its folder in test/", () => {
  const folders = readdirSync(SRC).filter((name) => statSync(join(SRC, name)).isDirectory());
  const missing = folders.filter((name) => !existsSync(join(ROOT, "test", name)));
  expect(missing).toEqual([]);
});

test(`no file in src/ over ${MAX_LINES} lines without saying why`, () => {
  const long = files.filter((file) => {
    const text = readFileSync(file, "utf8");
    return text.split("\n").length > MAX_LINES && !/why this file is long/i.test(text);
  });
  expect(long.map((file) => relative(SRC, file))).toEqual([]);
});
