/**
 * The browser client's accounts, moderation and scrollback in a real browser
 * (Debian's chromium, headless, driven by playwright-core): register in the
 * page and sign in again elsewhere with the password; a missing or wrong
 * password and throttling said plainly; the password never left in the DOM,
 * storage or the server's log; an operator page kicks and sets a topic that
 * TCP users see; hostile topics stay text; scrolling back loads each earlier
 * message once, in order. Screenshots land in test-artifacts/browser/.
 *
 * The server runs under bun (add node with TCPCHAT_TEST_RUNTIMES=bun,node).
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { BROWSER_RUNTIMES, openPage, pageUrl, SHOTS, say, type TestPage, useBrowser, waitForLine } from "../support/browser.ts";
import { TestClient } from "../support/chat_client.ts";
import { startChatServer } from "../support/chat_server.ts";
import { startTcpProxy } from "../support/tcp_proxy.ts";

const TIMEOUT_MS = 40_000;
const browser = useBrowser();

const PASSWORD = "correct horse battery";

/** Fills the sign-in form and submits it (does not wait for the outcome). */
async function submitSignIn(page: Page, nick: string, password = "", register = false): Promise<void> {
  await page.getByLabel("Nick").fill(nick);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByLabel("Create an account").setChecked(register);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** A page signed in as `nick` (a guest), in #lobby. */
async function signedIn(context: BrowserContext, url: string, nick: string): Promise<TestPage> {
  const page = await openPage(context, url);
  await submitSignIn(page, nick);
  await page.locator("#conversations button", { hasText: "#lobby" }).waitFor();
  return page;
}

/** Texts of the message lines on screen (not events). */
function messages(page: Page): Promise<string[]> {
  return page.locator("#lines li.msg .text").allTextContents();
}

/** Polls `read` until `done` holds of its value (or fails after `timeoutMs`, showing the last value). */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting; last saw ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Everything a script on the page could find the password in: the DOM (with input values) and storage. */
function pageText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const values = [...document.querySelectorAll("input")].map((input) => input.value);
    return [document.documentElement.outerHTML, ...values, JSON.stringify({ ...localStorage }), JSON.stringify({ ...sessionStorage })].join("\n");
  });
}

for (const runtime of BROWSER_RUNTIMES) {
  describe(`browser client accounts and moderation, server on ${runtime}`, () => {
    test("register in the page, then sign in from another page with the password; missing, wrong and throttled passwords are said plainly", async () => {
      await using server = await startChatServer(runtime, ["--http-listen", "127.0.0.1:0"]);
      const url = pageUrl(server);
      const context = await browser().newContext();
      try {
        const first = await openPage(context, url);
        await submitSignIn(first, "ada", PASSWORD, true);
        await first.locator("#status", { hasText: "Signed in as ada (account)" }).waitFor();
        await waitForLine(first, "registered: ada is now an account");
        expect(await pageText(first)).not.toContain(PASSWORD);
        await first.close();

        const second = await openPage(context, url);
        const error = second.locator("#signin-error");
        // Without a password: a prompt for it (the first page's socket may take a moment to go).
        await until(async () => {
          await submitSignIn(second, "ada");
          await second.waitForTimeout(200);
          return await error.textContent();
        }, (text) => text === "ada is a registered account: enter its password");
        expect(await second.evaluate(() => document.activeElement?.id)).toBe("password");
        await submitSignIn(second, "ada", "not the password");
        await error.filter({ hasText: "Wrong password for ada" }).waitFor();
        await second.screenshot({ path: join(SHOTS, `${runtime}-wrong-password.png`) });
        await submitSignIn(second, "ada", PASSWORD);
        await second.locator("#status", { hasText: "Signed in as ada (account)" }).waitFor();
        expect(await pageText(second)).not.toContain(PASSWORD);

        // Guessing is slowed: after five wrong passwords the page says to wait.
        await second.close();
        const third = await openPage(context, url);
        for (let attempt = 0; attempt < 8; attempt++) {
          await submitSignIn(third, "ada", `guess ${attempt}`);
          await until(() => third.locator("#signin-error").textContent(), (text) => text !== "");
          if ((await third.locator("#signin-error").textContent())!.startsWith("Too many attempts")) break;
        }
        expect(await third.locator("#signin-error").textContent()).toMatch(/^Too many attempts: wait \d+ s and try again$/);
        expect(server.lines().join("\n")).not.toContain(PASSWORD);
        expect([...first.errors, ...second.errors, ...third.errors]).toEqual([]);
      } finally {
        await context.close();
      }
    }, TIMEOUT_MS);

    test("after a lost connection an account page logs in to its account again by itself", async () => {
      await using server = await startChatServer(runtime, ["--http-listen", "127.0.0.1:0"]);
      const proxy = await startTcpProxy(Number(new URL(pageUrl(server)).port));
      const context = await browser().newContext();
      try {
        const page = await openPage(context, `http://127.0.0.1:${proxy.port}/`);
        await submitSignIn(page, "ada", PASSWORD, true);
        await page.locator("#status", { hasText: "Signed in as ada (account)" }).waitFor();
        proxy.cutAll();
        await waitForLine(page, "reconnected");
        await page.locator("#status", { hasText: "Signed in as ada (account)" }).waitFor();
        // The server agrees: the nick is the account's again.
        const carol = await TestClient.register(server.port, "carol");
        const who = await carol.request({ type: "who", room: "lobby" });
        expect(who.users.find((u: { nick: string }) => u.nick === "ada")?.account).toBe("ada");
        expect(await pageText(page)).not.toContain(PASSWORD);
        expect(page.errors).toEqual([]);
      } finally {
        await context.close();
        proxy.close();
      }
    }, TIMEOUT_MS);

    test("an operator page kicks, sets a topic TCP users see (markup stays text), and a non-operator is told not_op", async () => {
      await using server = await startChatServer(runtime, ["--http-listen", "127.0.0.1:0"]);
      const url = pageUrl(server);
      const context = await browser().newContext();
      try {
        const op = await signedIn(context, url, "opal");
        await say(op, "/join ops");
        await op.locator("#title", { hasText: "#ops" }).waitFor();
        const bob = await signedIn(context, url, "bob");
        await say(bob, "/join ops");
        await bob.locator("#title", { hasText: "#ops" }).waitFor();
        const carol = await TestClient.register(server.port, "carol");
        await carol.request({ type: "join", room: "ops" });
        // The creator is marked as an operator, in every member list.
        await op.locator("#members li", { hasText: "@opal (you)" }).waitFor();
        await bob.locator("#members li", { hasText: "@opal" }).waitFor();
        await op.locator("#members li", { hasText: "carol" }).waitFor();
        expect(await bob.getByRole("button", { name: "Kick carol" }).count()).toBe(0);

        // A topic with markup, typed by the operator: TCP users get it, pages show it as text.
        const hostile = `<img src=x onerror="window.__pwned=1"> plans`;
        await say(op, `/topic ${hostile}`);
        const topic = await carol.waitFor((f) => f.type === "topic");
        expect([topic.topic, topic.by]).toEqual([hostile, "opal"]);
        await bob.locator("#topic", { hasText: hostile }).waitFor();
        expect(await bob.locator("#topic").textContent()).toBe(hostile);
        await waitForLine(bob, `opal set the topic: ${hostile}`);
        expect(await bob.locator("#topic img, #lines img").count()).toBe(0);
        expect(await bob.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();

        // A member who is not an operator is told so in the room.
        await say(bob, "/topic mine now");
        await waitForLine(bob, "! not_op:");

        // Kick from the member list, and by a typed command with a reason.
        await op.getByRole("button", { name: "Kick carol" }).click();
        const kicked = await carol.waitFor((f) => f.type === "leave" && f.nick === "carol");
        expect([kicked.reason, kicked.by]).toEqual(["kicked", "opal"]);
        await waitForLine(op, "carol was kicked by opal");
        await say(op, "/kick bob being rude");
        await waitForLine(bob, "You were kicked by opal: being rude");
        await waitForLine(op, "bob was kicked by opal: being rude");
        expect(await bob.getByRole("button", { name: "Close" }).isVisible()).toBe(true);
        // A ban from the member list: the target is out and cannot come back.
        const dave = await TestClient.register(server.port, "dave");
        await dave.request({ type: "join", room: "ops" });
        await op.getByRole("button", { name: "Ban dave" }).click();
        expect((await dave.waitFor((f) => f.type === "leave" && f.nick === "dave")).reason).toBe("banned");
        await waitForLine(op, "dave was banned by opal");
        await waitForLine(op, "opal banned nick:dave in #ops");
        expect((await dave.request({ type: "join", room: "ops" })).code).toBe("banned");
        await op.screenshot({ path: join(SHOTS, `${runtime}-operator.png`) });
        // At phone width the header, topic and operator buttons still fit.
        await op.setViewportSize({ width: 375, height: 720 });
        expect(await op.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
        await op.screenshot({ path: join(SHOTS, `${runtime}-operator-375px.png`) });
        await bob.screenshot({ path: join(SHOTS, `${runtime}-kicked.png`) });
        expect([...op.errors, ...bob.errors]).toEqual([]);
      } finally {
        await context.close();
      }
    }, TIMEOUT_MS);

    test("a server operator's page kills a user; the killed page and the room say so", async () => {
      await using server = await startChatServer(runtime, ["--http-listen", "127.0.0.1:0", "--operators", "root"]);
      const url = pageUrl(server);
      const context = await browser().newContext();
      try {
        const root = await openPage(context, url);
        await submitSignIn(root, "root", PASSWORD, true);
        await root.locator("#status", { hasText: "Signed in as root (account)" }).waitFor();
        const victim = await signedIn(context, url, "vic");
        await root.locator("#members li", { hasText: "vic" }).waitFor();
        await say(root, "/kill vic flooding");
        await waitForLine(victim, "You were disconnected by a server operator (killed)");
        await waitForLine(root, "vic was disconnected by a server operator");
        // The client library comes back (as after any drop but quit); only server operators may kill.
        await waitForLine(victim, "reconnected");
        await say(victim, "/kill root");
        await waitForLine(victim, "! not_op:");
        expect([...root.errors, ...victim.errors]).toEqual([]);
      } finally {
        await context.close();
      }
    }, TIMEOUT_MS);

    test("scrolling back loads each earlier message exactly once, in order, then says nothing earlier is kept", async () => {
      await using server = await startChatServer(runtime, ["--http-listen", "127.0.0.1:0", "--history", "500", "--history-on-join", "5", "--rate-per-s", "0"]);
      const url = pageUrl(server);
      const carol = await TestClient.register(server.port, "carol");
      const sent = Array.from({ length: 120 }, (_, i) => `old ${i + 1}`);
      for (const text of sent) carol.send({ type: "msg", room: "lobby", text, id: text });
      await carol.waitFor((f) => f.type === "msg" && f.id === "old 120");
      const context = await browser().newContext();
      try {
        const page = await signedIn(context, url, "reader");
        await waitForLine(page, "old 120");
        expect(await messages(page)).toEqual(sent.slice(-5));
        // The first page with the button, the next by scrolling to the top, the last from the keyboard.
        const earlier = page.getByRole("button", { name: "Load earlier messages" });
        await earlier.click();
        await until(() => messages(page), (shown) => shown.length === 55);
        await page.locator("#lines").evaluate((list) => list.scrollTo({ top: 0 }));
        await until(() => messages(page), (shown) => shown.length === 105);
        // The line that was at the top stays there (the earlier ones went in above, out of sight).
        const list = await page.locator("#lines").boundingBox();
        const kept = await page.locator("#lines li.msg .text", { hasText: /^old 66$/ }).boundingBox();
        expect(kept!.y - list!.y).toBeGreaterThanOrEqual(0);
        expect(kept!.y - list!.y).toBeLessThan(40);
        await earlier.focus();
        await page.keyboard.press("Enter");
        await page.getByRole("button", { name: "Nothing earlier is kept" }).waitFor();
        expect(await messages(page)).toEqual(sent);
        expect(await page.getByRole("button", { name: "Nothing earlier is kept" }).isDisabled()).toBe(true);
        // Live messages still go below.
        carol.send({ type: "msg", room: "lobby", text: "new one" });
        await waitForLine(page, "new one");
        expect(await messages(page)).toEqual([...sent, "new one"]);
        await page.screenshot({ path: join(SHOTS, `${runtime}-scrollback.png`) });
        expect(page.errors).toEqual([]);
      } finally {
        await context.close();
      }
    }, TIMEOUT_MS);
  });
}
