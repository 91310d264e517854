/**
 * The set-up the browser suites share: Debian's chromium, headless, driven by
 * playwright-core (nothing downloads a browser), launched once per file; the
 * runtimes the server runs under; the page's address from the server's
 * `web` line; and pages that collect their script errors.
 *
 * @example
 * ```ts
 * const browser = useBrowser();
 * for (const runtime of BROWSER_RUNTIMES) test("...", async () => {
 *   await using server = await startChatServer(runtime, ["--http-listen", "127.0.0.1:0"]);
 *   const context = await browser().newContext();
 *   const page = await openPage(context, pageUrl(server));
 * });
 * ```
 *
 * @module
 */
import { afterAll, beforeAll } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { type ChatServerProcess, SERVER_RUNTIMES } from "./chat_server.ts";
import { REPO_ROOT } from "./runtimes.ts";

/** The browser binary (`TCPCHAT_CHROMIUM` to use another). */
export const CHROMIUM: string = process.env.TCPCHAT_CHROMIUM ?? "/usr/bin/chromium";

/** Where screenshots go (gitignored). */
export const SHOTS: string = join(REPO_ROOT, "test-artifacts", "browser");

/** Whether the browser is installed; CI must have it, elsewhere the suites are skipped with a note. */
export const BROWSER_AVAILABLE: boolean = existsSync(CHROMIUM);
if (!BROWSER_AVAILABLE && process.env.CI) throw new Error(`no browser at ${CHROMIUM}: install chromium`);
if (!BROWSER_AVAILABLE) console.warn(`note: no browser at ${CHROMIUM}; browser tests skipped`);

/**
 * Server runtimes for the browser suites: bun (and node when asked, e.g.
 * `TCPCHAT_TEST_RUNTIMES=bun,node`), none without a browser. The page and
 * the browser are the same whatever runs the server, and the WebSocket suite
 * already covers every runtime.
 */
export const BROWSER_RUNTIMES: typeof SERVER_RUNTIMES = BROWSER_AVAILABLE ? SERVER_RUNTIMES.filter((r) => r === "bun" || r === "node") : [];

/** Launches the browser before the file's tests and closes it after; call at the top level. Returns a getter. */
export function useBrowser(): () => Browser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    if (!BROWSER_AVAILABLE) return;
    mkdirSync(SHOTS, { recursive: true });
    // --no-sandbox: CI containers run as root, where chromium's sandbox cannot start.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  });
  afterAll(async () => await browser?.close());
  return () => {
    if (!browser) throw new Error("the browser is not running (useBrowser's beforeAll has not run)");
    return browser;
  };
}

/** The page's URL, from the server's `web http://host:port/` line. */
export function pageUrl(server: ChatServerProcess): string {
  const line = server.lines().find((l) => l.startsWith("web "));
  if (!line) throw new Error(`no web line in:\n${server.stdout()}`);
  return line.slice(4);
}

/** A page whose script errors are collected in `errors` (tests expect it empty). */
export type TestPage = Page & { errors: string[] };

/** A page at `url` (the sign-in form), collecting its script errors. */
export async function openPage(context: BrowserContext, url: string): Promise<TestPage> {
  const page = Object.assign(await context.newPage(), { errors: [] as string[] });
  page.on("pageerror", (error) => page.errors.push(String(error)));
  await page.goto(url);
  return page;
}

/** Types `text` into the message box and sends it. */
export async function say(page: Page, text: string): Promise<void> {
  await page.getByLabel("Message", { exact: true }).fill(text);
  await page.getByLabel("Message", { exact: true }).press("Enter");
}

/** Waits until a line containing `text` is on screen. */
export async function waitForLine(page: Page, text: string): Promise<void> {
  await page.locator("#lines li", { hasText: text }).first().waitFor({ timeout: 10_000 });
}
