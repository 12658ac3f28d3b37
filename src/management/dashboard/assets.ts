/**
 * The dashboard's files, embedded into the executable at build time: the page,
 * its style, its script (TypeScript, transpiled once on first use) and uPlot's
 * script and style from its npm package. Served without the token: they hold
 * no data.
 */

import uplotJs from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };
// @ts-expect-error TypeScript sees the browser script as a module; the bundler hands its text.
import clientSource from "./client.ts" with { type: "text" };
import css from "./dashboard.css" with { type: "text" };
import html from "./index.html" with { type: "text" };

export interface Asset {
  type: string;
  body: string;
}

const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";

// Bun's types give an `.html` import as an HTML bundle; a text import is the text.
const page = html as unknown as string;
let client: string | null = null;

/** The page's script as the browser runs it; the transpiler is part of the runtime. */
function clientScript(): string {
  client ??= new Bun.Transpiler({ loader: "ts", target: "browser" }).transformSync(
    clientSource as string,
  );
  return client;
}

const FILES: Record<string, () => Asset> = {
  "dashboard.js": () => ({ type: JS, body: clientScript() }),
  "dashboard.css": () => ({ type: CSS, body: css }),
  "uplot.js": () => ({ type: JS, body: uplotJs }),
  "uplot.css": () => ({ type: CSS, body: uplotCss }),
};

export function isDashboardAsset(name: string): boolean {
  return Object.hasOwn(FILES, name);
}

/** `/dashboard/<name>` → its file. */
export function dashboardAsset(name: string): Asset | undefined {
  return isDashboardAsset(name) ? FILES[name]!() : undefined;
}

/** The page; `tokenRequired` lets it ask for the token before it tries the stream. */
export function dashboardPage(tokenRequired: boolean): string {
  return tokenRequired ? page.replace("<body>", '<body data-token="required">') : page;
}
