/**
 * The browser client in a real browser: Debian's chromium, headless, driven
 * by playwright-core (nothing downloads a browser). Two pages and a TCP
 * client chat; a page resumes after a server restart with exactly what it
 * missed; DMs; away notes; hostile text stays text; a phone-width screen.
 * Screenshots land in test-artifacts/browser/ (gitignored).
 *
 * The server runs under bun only (add node with TCPCHAT_TEST_RUNTIMES=bun,node):
 * the page and the browser are the same whatever runs the server, and the
 * WebSocket suite already covers every runtime.
 */
import { describe, expect, test } from "bun:test";
import * as net from "node:net";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { BROWSER_RUNTIMES, openPage, pageUrl, SHOTS, say, type TestPage, useBrowser, waitForLine } from "../support/browser.ts";
import { TestClient } from "../support/chat_client.ts";
import { startChatServer } from "../support/chat_server.ts";
import { startTcpProxy } from "../support/tcp_proxy.ts";

const TIMEOUT_MS = 30_000;
const browser = useBrowser();

/** A port that was free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A page signed in as `nick`; page errors fail the test through `errors`. */
async function signedIn(context: BrowserContext, url: string, nick: string): Promise<TestPage> {
  const page = await openPage(context, url);
  await page.getByLabel("Nick").fill(nick);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#chat").waitFor({ state: "visible" });
  await page.locator("#conversations button", { hasText: "#lobby" }).waitFor();
  return page;
}

/** Texts of the message lines on screen (not events). */
function messages(page: Page): Promise<string[]> {
  return page.locator("#lines li.msg .text, #lines li.action .text").allTextContents();
}

for (const runtime of BROWSER_RUNTIMES) {
  describe(`browser client, server on ${runtime}`, () => {
    test("two pages and a TCP client chat in one room, with timestamps and /me", async () => {
      await using server = await startChatServer(runtime, ["--http-listen", "127.0.0.1:0"]);
      const url = pageUrl(server);
      const context = await browser().newContext();
      try {
        const alice = await signedIn(context, url, "alice");
        const bob = await signedIn(context, url, "bob");
        const carol = await TestClient.register(server.port, "carol");
        await say(alice, "hello from alice");
        await waitForLine(bob, "hello from alice");
        expect((await carol.waitFor((f) => f.type === "msg")).text).toBe("hello from alice");
        carol.send({ type: "msg", room: "lobby", text: "hi from carol over tcp" });
        await waitForLine(alice, "hi from carol over tcp");
        await waitForLine(bob, "hi from carol over tcp");
        await say(bob, "/me waves");
        await waitForLine(alice, "* bob waves");
        expect(await messages(alice)).toEqual(["hello from alice", "hi from carol over tcp", "* bob waves"]);
        // Each line carries a machine-readable timestamp.
        const stamp = await alice.locator("#lines li.msg time").first().getAttribute("datetime");
        expect(Math.abs(Date.parse(stamp!) - Date.now())).toBeLessThan(60_000);
        expect(await alice.locator("#members li").allTextContents()).toEqual(["alice (you)", "bob", "carol"]);
        await alice.screenshot({ path: join(SHOTS, `${runtime}-chat.png`) });
        expect([...alice.errors, ...bob.errors]).toEqual([]);
      } finally {
        await context.close();
      }
    }, TIMEOUT_MS);

    test("a DM opens its own conversation with an unread count; away notes show to others", async () => {
      await using server = await startChatServer(runtime, ["--http-listen", "127.0.0.1:0"]);
      const url = pageUrl(server);
      const context = await browser().newContext();
      try {
        const alice = await signedIn(context, url, "alice");
        const bob = await signedIn(context, url, "bob");
        await alice.locator("#members button", { hasText: "bob" }).click();
        await say(alice, "a secret for bob");
        const dm = bob.locator("#conversations button", { hasText: "@alice" });
        await dm.waitFor();
        expect(await dm.locator(".unread").textContent()).toBe("1");
        await dm.click();
        await waitForLine(bob, "a secret for bob");
        expect(await bob.locator("#title").textContent()).toBe("@alice");
        // Away, with a note, as the others see it.
        await bob.locator("#conversations button", { hasText: "#lobby" }).click();
        await say(bob, "/away at lunch");
        await alice.locator("#conversations button", { hasText: "#lobby" }).click();
        await alice.locator("#members li", { hasText: "bob (away: at lunch)" }).waitFor({ timeout: 5000 });
        await waitForLine(alice, "bob is away: at lunch");
        await alice.screenshot({ path: join(SHOTS, `${runtime}-away.png`) });
        expect([...alice.errors, ...bob.errors]).toEqual([]);
      } finally {
        await context.close();
      }
    }, TIMEOUT_MS);

    test("markup in messages is shown as text and runs nothing", async () => {
      await using server = await startChatServer(runtime, ["--http-listen", "127.0.0.1:0"]);
      const url = pageUrl(server);
      const context = await browser().newContext();
      try {
        const alice = await signedIn(context, url, "alice");
        const mallory = await TestClient.register(server.port, "mallory");
        const hostile = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>bold</b>`;
        mallory.send({ type: "msg", room: "lobby", text: hostile });
        mallory.send({ type: "dm", to: "alice", text: hostile });
        await say(alice, `/me ${hostile}`);
        await waitForLine(alice, `* alice ${hostile}`);
        expect(await messages(alice)).toEqual([hostile, `* alice ${hostile}`]);
        await alice.locator("#conversations button", { hasText: "@mallory" }).click();
        expect(await messages(alice)).toEqual([hostile]);
        expect(await alice.locator("#lines img, #lines script, #lines b").count()).toBe(0);
        expect(await alice.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
        await alice.screenshot({ path: join(SHOTS, `${runtime}-markup.png`) });
        expect(alice.errors).toEqual([]);
      } finally {
        await context.close();
      }
    }, TIMEOUT_MS);

    test("at 375 px wide the page fits, and signing in, joining and sending work", async () => {
      await using server = await startChatServer(runtime, ["--http-listen", "127.0.0.1:0"]);
      const url = pageUrl(server);
      const context = await browser().newContext({ viewport: { width: 375, height: 720 }, isMobile: true, hasTouch: true });
      try {
        const phone = await signedIn(context, url, "phoney");
        await phone.getByLabel("Join room").fill("#random");
        await phone.getByRole("button", { name: "Join" }).click();
        await phone.locator("#title", { hasText: "#random" }).waitFor();
        await say(phone, "typed on a phone");
        await waitForLine(phone, "typed on a phone");
        await phone.locator("#conversations button", { hasText: "#lobby" }).click();
        const width = await phone.evaluate(() => document.documentElement.scrollWidth);
        expect(width).toBeLessThanOrEqual(375);
        for (const name of ["Send", "Leave", "Set away"]) expect(await phone.getByRole("button", { name }).isVisible()).toBe(true);
        await phone.screenshot({ path: join(SHOTS, `${runtime}-375px.png`) });
        expect(phone.errors).toEqual([]);
      } finally {
        await context.close();
      }
    }, TIMEOUT_MS);

    test("after a server restart the page reconnects and shows exactly the messages it missed", async () => {
      const web = await freePort();
      const flags = ["--http-listen", `127.0.0.1:${web}`];
      let server = await startChatServer(runtime, flags);
      // The page reaches the server through a proxy that can play a network outage.
      const proxy = await startTcpProxy(web);
      const context = await browser().newContext();
      try {
        const alice = await signedIn(context, `http://127.0.0.1:${proxy.port}/`, "alice");
        const carol = await TestClient.register(server.port, "carol");
        for (const text of ["before 1", "before 2"]) carol.send({ type: "msg", room: "lobby", text, id: text });
        await waitForLine(alice, "before 2");
        // The page loses its connection and cannot come back while the server restarts.
        proxy.refusing = true;
        proxy.cutAll();
        await alice.locator("#status", { hasText: "reconnecting" }).waitFor({ timeout: 5000 });
        await server.stop();
        server = await startChatServer(runtime, flags);
        const carol2 = await TestClient.register(server.port, "carol");
        for (const text of ["after 1", "after 2", "after 3"]) {
          carol2.send({ type: "msg", room: "lobby", text, id: text });
          await carol2.waitFor((f) => f.type === "msg" && f.id === text);
        }
        proxy.refusing = false;
        await waitForLine(alice, "reconnected");
        await waitForLine(alice, "after 3");
        expect(await messages(alice)).toEqual(["before 1", "before 2", "after 1", "after 2", "after 3"]);
        await alice.screenshot({ path: join(SHOTS, `${runtime}-resumed.png`) });
        expect(alice.errors).toEqual([]);
      } finally {
        await context.close();
        proxy.close();
        await server.stop();
      }
    }, 45_000);
  });
}
