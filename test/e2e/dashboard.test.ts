/**
 * The dashboard in a real browser (Debian's chromium, driven by playwright-core),
 * served by the compiled binary with no files beside it: the page loads cleanly,
 * lists the rules, its charts grow while traffic flows, and with a token the page
 * asks for it while the stream refuses anyone without it. A screenshot is saved
 * for people to look at.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { namedBackend, type TestBackend } from "../support/backend.ts";
import { type RunningBinary, startBinary } from "../support/binary.ts";

const CHROMIUM = process.env.MANTRID_CHROMIUM ?? "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(
    `SKIPPED the dashboard browser tests: no chromium at ${CHROMIUM} ` +
      "(apt-get install -y chromium, or set MANTRID_CHROMIUM)",
  );
}

const TOKEN = "dashboard-test-token-5f1c";

/** What the page exposes for this test: its uPlot charts (x values, then each series). */
type WithCharts = { mantrid: { charts: Record<string, { data: (number | null)[][] }> } };
const HOSTS = ["app.test", "static.test", "old.example.org"];
const SLOW = 60_000;

let dir: string;
let browser: Browser;
let backend: TestBackend;

beforeAll(async () => {
  if (!haveChromium) return;
  dir = await mkdtemp(join(tmpdir(), "mantrid-dashboard-"));
  backend = await namedBackend("app");
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Chromium's sandbox cannot run as root (CI runs as root).
    args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
  });
}, SLOW);

afterAll(async () => {
  if (!haveChromium) return;
  await browser?.close();
  await backend?.close();
  await rm(dir, { recursive: true, force: true });
});

async function putRules(server: RunningBinary, auth: Record<string, string> = {}) {
  const rules: Record<string, unknown[]> = {
    "app.test": ["proxy", { backends: [`127.0.0.1:${backend.port}`] }, false],
    "static.test": ["static", { type: "test" }, false],
    "old.example.org": ["redirect", { redirect_to: "https://example.org" }, true],
  };
  for (const [host, rule] of Object.entries(rules)) {
    const response = await fetch(`${server.api}/hostname/${host}/`, {
      method: "PUT",
      headers: auth,
      body: JSON.stringify(rule),
    });
    expect(response.status).toBe(200);
  }
}

async function folder(name: string): Promise<string> {
  const path = join(dir, name);
  await mkdir(path);
  return path;
}

/** Console errors and uncaught exceptions of a page. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  return errors;
}

/** Requests through the balancer, one after another, until stopped. */
function sendTraffic(port: number) {
  let running = true;
  let sent = 0;
  const done = (async () => {
    while (running) {
      for (const host of ["app.test", "static.test"]) {
        const response = await fetch(`http://127.0.0.1:${port}/`, { headers: { host } });
        await response.arrayBuffer();
        sent++;
      }
    }
  })();
  return {
    sent: () => sent,
    async stop() {
      running = false;
      await done;
    },
  };
}

function rulesText(page: Page): Promise<string> {
  return page.evaluate(() => document.querySelector("#rules tbody")?.textContent ?? "");
}

/** Waits until the rule table names every one of `hosts`. */
async function rulesListed(page: Page, hosts: string[]): Promise<void> {
  await page.waitForFunction(
    (names) => {
      const text = document.querySelector("#rules tbody")?.textContent ?? "";
      return names.every((name) => text.includes(name));
    },
    hosts,
    { timeout: 15_000 },
  );
}

describe.skipIf(!haveChromium)("the dashboard", () => {
  test(
    "loads with no console errors, lists the rules, and its charts grow with traffic",
    async () => {
      const server = await startBinary([], await folder("open"));
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors = watchErrors(page);
      try {
        await putRules(server);
        await page.goto(`${server.api}/`);
        await rulesListed(page, HOSTS);
        expect(await page.title()).toBe("Mantrid");
        const text = await rulesText(page);
        expect(text).toContain(`127.0.0.1:${backend.port}`);
        expect(text).toContain("redirect");
        expect(await page.locator("#backends tbody").textContent()).toContain(
          `127.0.0.1:${backend.port}`,
        );

        const points = () =>
          page.evaluate(() => {
            const charts = (window as unknown as WithCharts).mantrid.charts;
            return charts.requests!.data[0]!.length;
          });
        const before = await points();
        const traffic = sendTraffic(server.port);
        try {
          // Three more points, and a rate above zero among them: the chart follows the traffic.
          await page.waitForFunction(
            (start) => {
              const chart = (window as unknown as WithCharts).mantrid.charts.requests!;
              const rates = chart.data[1]!;
              return chart.data[0]!.length >= start + 3 && rates.some((rate) => (rate ?? 0) > 0);
            },
            before,
            { timeout: 20_000 },
          );
          // app.test's row (the first): its req/s above zero, and a p99 in milliseconds.
          await page.waitForFunction(
            () => {
              const cells = document.querySelectorAll("#rules tbody tr:first-child td");
              return (
                /[1-9]/.test(cells[4]?.textContent ?? "") && /ms$/.test(cells[8]?.textContent ?? "")
              );
            },
            undefined,
            { timeout: 10_000 },
          );
        } finally {
          await traffic.stop();
        }
        expect(traffic.sent()).toBeGreaterThan(0);
        expect(await points()).toBeGreaterThanOrEqual(before + 3);

        const shots = await mkdtemp(join(tmpdir(), "mantrid-dashboard-shot-"));
        const path = join(shots, "dashboard.png");
        await page.screenshot({ path, fullPage: true });
        console.log(`dashboard screenshot: ${path}`);
        expect(existsSync(path)).toBe(true);
        expect(errors).toEqual([]);
      } finally {
        await page.close();
        await server.stop("SIGKILL");
      }
    },
    SLOW,
  );

  test(
    "with a token: the page asks for it, and the stream refuses anyone without it",
    async () => {
      const server = await startBinary([], await folder("token"), {
        MANTRID_MANAGEMENT_TOKEN: TOKEN,
      });
      const auth = { authorization: `Bearer ${TOKEN}` };
      const context = await browser.newContext();
      try {
        await putRules(server, auth);
        // The stream and the API need the token; the page and its files do not.
        const stream = `${server.api}/dashboard/stream`;
        expect((await fetch(stream)).status).toBe(401);
        const wrong = await fetch(stream, { headers: { authorization: "Bearer nope" } });
        expect(wrong.status).toBe(401);
        const right = await fetch(stream, { headers: auth });
        expect(right.status).toBe(200);
        expect(right.headers.get("content-type")).toStartWith("text/event-stream");
        await right.body?.cancel();
        expect((await fetch(`${server.api}/hostname/`)).status).toBe(401);
        expect((await fetch(`${server.api}/`)).status).toBe(401);
        expect((await fetch(`${server.api}/dashboard/uplot.js`)).status).toBe(200);

        const page = await context.newPage();
        const errors = watchErrors(page);
        await page.goto(`${server.api}/`);
        await page.waitForFunction(() => !document.querySelector<HTMLElement>("#login")!.hidden);
        expect(await page.locator("#main").isHidden()).toBe(true);
        expect(await rulesText(page)).toBe("");

        await page.fill("#token", TOKEN);
        await page.click("#login button");
        await rulesListed(page, HOSTS);
        expect(await page.evaluate(() => sessionStorage.getItem("mantrid-token"))).toBe(TOKEN);
        // A reload keeps the token for this tab: no question asked again.
        await page.reload();
        await rulesListed(page, ["app.test"]);
        expect(await page.locator("#login").isHidden()).toBe(true);
        expect(errors).toEqual([]);

        // A wrong token is refused and asked for again.
        const other = await context.newPage();
        await other.goto(`${server.api}/`);
        await other.waitForFunction(() => !document.querySelector<HTMLElement>("#login")!.hidden);
        await other.fill("#token", "not-the-token");
        await other.click("#login button");
        await other.waitForFunction(
          () => !document.querySelector<HTMLElement>("#login-error")!.hidden,
        );
        expect(await other.evaluate(() => sessionStorage.getItem("mantrid-token"))).toBeNull();

        expect(server.log()).not.toContain(TOKEN);
      } finally {
        await context.close();
        await server.stop("SIGKILL");
      }
    },
    SLOW,
  );
});
