/**
 * Accounts as users see them (protocol section 8): registering, logging in
 * with hello or nick, changing and dropping; every error code; guessing
 * throttled per account and per address; passwords in no frame, log line or
 * metric; and a storm of password hashing that leaves chat responsive.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Frame, TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";

/** Every password used below: none may appear anywhere the server writes. */
const SECRETS = ["correct-horse-1", "battery-staple-2", "wrong-guess-", "short", "tribbleTRIBBLE9", "drop-me-please"];

describe.each(SERVER_RUNTIMES)("accounts (%s)", (runtime) => {
  let server: ChatServerProcess;
  const everyone: TestClient[] = [];

  async function connect(localAddress?: string): Promise<TestClient> {
    const client = await TestClient.connect(server.port, { localAddress });
    everyone.push(client);
    return client;
  }
  async function guest(nick: string): Promise<TestClient> {
    const client = await TestClient.register(server.port, nick);
    everyone.push(client);
    return client;
  }

  beforeAll(async () => {
    server = await startChatServer(runtime, ["--metrics", "127.0.0.1:0", "--log-level", "debug", "--rate-per-s", "1000", "--burst", "1000"]);
  });
  afterAll(() => server.stop());

  test("register logs in; the nick then needs its password: nick_reserved, unauthorized, then welcome.account", async () => {
    const amy = await guest("amy");
    expect(await amy.request({ type: "register", password: "correct-horse-1", email: "amy@example.org" })).toMatchObject({
      type: "account",
      account: "amy",
      change: "registered",
    });
    const who = await amy.request({ type: "who", room: "lobby" });
    expect(who.users.find((u: Frame) => u.nick === "amy")).toMatchObject({ account: "amy" });
    amy.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));

    const again = await connect();
    expect(await again.request({ type: "hello", nick: "AMY" })).toMatchObject({ type: "error", code: "nick_reserved" });
    expect(await again.request({ type: "hello", nick: "amy", password: "wrong-guess-1" })).toMatchObject({ code: "unauthorized" });
    // Still unregistered, and may try again.
    expect(await again.request({ type: "who", room: "lobby" })).toMatchObject({ code: "not_registered" });
    expect(await again.request({ type: "hello", nick: "Amy", password: "correct-horse-1" })).toMatchObject({
      type: "welcome",
      nick: "Amy",
      account: "amy",
    });
    // A password for a nick that is no account is ignored.
    const other = await connect();
    const welcome = await other.request({ type: "hello", nick: "nobody-special", password: "whatever-it-is" });
    expect(welcome.type).toBe("welcome");
    expect(welcome.account).toBeUndefined();
  });

  test("nick with the password takes an account's nick and logs in; without it, nick_reserved", async () => {
    const owner = await guest("cyd");
    await owner.request({ type: "register", password: "battery-staple-2" });
    await owner.request({ type: "nick", nick: "cyd-away" });
    const other = await guest("dee");
    expect(await other.request({ type: "nick", nick: "cyd" })).toMatchObject({ code: "nick_reserved" });
    expect(await other.request({ type: "nick", nick: "cyd", password: "battery-staple-2x" })).toMatchObject({ code: "unauthorized" });
    expect(await other.request({ type: "nick", nick: "cyd", password: "battery-staple-2" })).toMatchObject({ type: "nick", old: "dee", new: "cyd" });
    const who = await other.request({ type: "who", room: "lobby" });
    expect(who.users.find((u: Frame) => u.nick === "cyd")).toMatchObject({ account: "cyd" });
    // The owner, renamed but still logged in, keeps its account too.
    expect(who.users.find((u: Frame) => u.nick === "cyd-away")).toMatchObject({ account: "cyd" });
  });

  test("register, passwd and drop answer every error code", async () => {
    const eli = await guest("eli");
    expect(await eli.request({ type: "passwd", password: "x", new_password: "tribbleTRIBBLE9" })).toMatchObject({ code: "not_logged_in" });
    expect(await eli.request({ type: "drop", password: "x" })).toMatchObject({ code: "not_logged_in" });
    expect(await eli.request({ type: "register", password: "short" })).toMatchObject({ code: "weak_password", field: "password" });
    expect(await eli.request({ type: "register", password: "ELI" })).toMatchObject({ code: "weak_password" });
    await eli.request({ type: "nick", nick: "elizabeth" });
    expect(await eli.request({ type: "register", password: "Elizabeth" })).toMatchObject({ code: "weak_password" });
    expect(await eli.request({ type: "register", password: "p".repeat(257) })).toMatchObject({ code: "invalid", field: "password" });
    // A lone surrogate would be hashed as U+FFFD and match other passwords.
    expect(await eli.request({ type: "register", password: "abcdefgh\ud800" })).toMatchObject({ code: "invalid", field: "password" });
    expect(await eli.request({ type: "register", password: "tribbleTRIBBLE9" })).toMatchObject({ type: "account", account: "elizabeth" });
    expect(await eli.request({ type: "register", password: "tribbleTRIBBLE9" })).toMatchObject({ code: "account_exists" });
    expect(await eli.request({ type: "passwd", password: "wrong-guess-2", new_password: "drop-me-please" })).toMatchObject({
      code: "unauthorized",
    });
    expect(await eli.request({ type: "passwd", password: "tribbleTRIBBLE9", new_password: "short" })).toMatchObject({
      code: "weak_password",
      field: "new_password",
    });
    expect(await eli.request({ type: "passwd", password: "tribbleTRIBBLE9", new_password: "drop-me-please" })).toMatchObject({
      type: "account",
      change: "password",
    });
    const old = await connect();
    expect(await old.request({ type: "hello", nick: "elizabeth2" })).toMatchObject({ type: "welcome" });
    expect(await old.request({ type: "nick", nick: "Elizabeth", password: "tribbleTRIBBLE9" })).toMatchObject({ code: "nick_taken" });
    expect(await eli.request({ type: "drop", password: "tribbleTRIBBLE9" })).toMatchObject({ code: "unauthorized" });
    expect(await eli.request({ type: "drop", password: "drop-me-please" })).toMatchObject({ type: "account", change: "dropped" });
    const who = await eli.request({ type: "who", room: "lobby" });
    expect(who.users.find((u: Frame) => u.nick === "elizabeth")).not.toHaveProperty("account");
    // Someone else registering the same nick while it is online as a guest elsewhere.
    const fay = await guest("fay");
    await fay.request({ type: "register", password: "tribbleTRIBBLE9" });
    const fay2 = await guest("fay2");
    expect(await fay2.request({ type: "nick", nick: "fay", password: "tribbleTRIBBLE9" })).toMatchObject({ code: "nick_taken" });
  });

  test("registration closed refuses register", async () => {
    await using closed = await startChatServer(runtime, ["--registration", "closed"]);
    const client = await TestClient.register(closed.port, "gil");
    expect(await client.request({ type: "register", password: "correct-horse-1" })).toMatchObject({ code: "registration_closed" });
    client.destroy();
  });

  test("after 5 wrong passwords for an account, the 6th attempt is refused even with the right one", async () => {
    const hal = await guest("hal");
    await hal.request({ type: "register", password: "correct-horse-1" });
    hal.destroy();
    // From another loopback address, so the per-address limit of the other tests is untouched.
    const thief = await connect("127.0.0.2");
    for (let i = 0; i < 5; i++) {
      expect(await thief.request({ type: "hello", nick: "hal", password: `wrong-guess-${i}` })).toMatchObject({ code: "unauthorized" });
    }
    const refused = await thief.request({ type: "hello", nick: "hal", password: "correct-horse-1" });
    expect(refused).toMatchObject({ type: "error", code: "rate_limited" });
    expect(refused.retry_after_ms).toBeGreaterThan(50_000);
    expect(refused.retry_after_ms).toBeLessThanOrEqual(60_000);
    // Per account: the owner is refused from any address too, until the window passes.
    const owner = await connect("127.0.0.3");
    expect(await owner.request({ type: "hello", nick: "hal", password: "correct-horse-1" })).toMatchObject({ code: "rate_limited" });
  });

  test("5 wrong passwords from one address throttle it for every account", async () => {
    for (const nick of ["ian", "jan"]) {
      const c = await guest(nick);
      await c.request({ type: "register", password: "correct-horse-1" });
      c.destroy();
    }
    const guesser = await connect("127.0.0.4");
    for (let i = 0; i < 5; i++) {
      expect(await guesser.request({ type: "hello", nick: i % 2 ? "ian" : "jan", password: `wrong-guess-${i}` })).toMatchObject({
        code: "unauthorized",
      });
    }
    expect(await guesser.request({ type: "hello", nick: "ian", password: "correct-horse-1" })).toMatchObject({ code: "rate_limited" });
    const elsewhere = await connect("127.0.0.5");
    expect(await elsewhere.request({ type: "hello", nick: "ian", password: "correct-horse-1" })).toMatchObject({ account: "ian" });
  });

  test("frames sent while a password is checked are answered after it, in order", async () => {
    const kai = await guest("kai");
    await kai.request({ type: "register", password: "correct-horse-1" });
    kai.destroy();
    const client = await connect();
    client.send({ type: "hello", nick: "kai", password: "correct-horse-1", id: "h" });
    client.send({ type: "join", room: "after-login", id: "j" });
    client.send({ type: "ping", t: 7, id: "p" });
    const answers: string[] = [];
    while (answers.length < 3) {
      const frame = await client.waitFor((f) => typeof f.id === "string");
      answers.push(`${frame.id}:${frame.type}`);
    }
    expect(answers).toEqual(["h:welcome", "j:room", "p:pong"]);
  });

  test("a login storm does not stall chat: pings are answered quickly while passwords hash", async () => {
    const pinger = await guest("pinger");
    const stormers = await Promise.all(Array.from({ length: 24 }, (_, i) => guest(`storm${i}`)));
    let worstMs = 0;
    let stop = false;
    const pings = (async () => {
      for (let t = 0; !stop; t++) {
        const sent = performance.now();
        await pinger.request({ type: "ping", t });
        worstMs = Math.max(worstMs, performance.now() - sent);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const started = performance.now();
    const answers = await Promise.all(stormers.map((c) => c.request({ type: "register", password: "correct-horse-1" }, 30_000)));
    const stormMs = performance.now() - started;
    stop = true;
    await pings;
    // Each register hashes once; had hashing run on the event loop, pings would wait for all of it.
    if (process.env.TCPCHAT_TEST_VERBOSE) console.log(`storm of 24 registers: ${Math.round(stormMs)} ms, worst ping ${Math.round(worstMs)} ms`);
    expect(answers.every((a) => a.type === "account" || a.code === "rate_limited")).toBe(true);
    expect(answers.filter((a) => a.type === "account").length).toBeGreaterThan(0);
    expect(worstMs).toBeLessThan(Math.max(400, stormMs / 3));
  }, 60_000);

  test("no password appears in any frame, log line or metric", async () => {
    const url = server.lines().find((l) => l.startsWith("metrics "))!.slice("metrics ".length);
    const metrics = await (await fetch(`http://${url}/metrics`)).text();
    expect(metrics).toMatch(/tcpchat_account_events_total\{event="login_failed"\} [1-9]/);
    const frames = everyone.flatMap((c) => c.lines).join("\n");
    const logs = server.stderr() + server.stdout();
    expect(logs).toContain("login_failed");
    for (const secret of SECRETS) {
      expect({ secret, inFrames: frames.includes(secret) }).toEqual({ secret, inFrames: false });
      expect({ secret, inLogs: logs.includes(secret) }).toEqual({ secret, inLogs: false });
      expect({ secret, inMetrics: metrics.includes(secret) }).toEqual({ secret, inMetrics: false });
    }
    for (const c of everyone) c.destroy();
  });
});
