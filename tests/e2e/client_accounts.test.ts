/**
 * Accounts and moderation from the client side: the library logs back in by
 * itself after a lost connection and follows topics and operators;
 * `tcpchat send` takes the password from the environment; `tcpchat connect`
 * asks for it without echo (in a real terminal, tmux).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { ChatClient, ChatError } from "../../lib/client/chat_client.ts";
import { getRuntime } from "../../lib/runtime/mod.ts";
import { TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, startChatServer } from "../support/chat_server.ts";
import { binPath, REPO_ROOT } from "../support/runtimes.ts";
import { startTcpProxy } from "../support/tcp_proxy.ts";
import { HAVE_TMUX, TerminalPane } from "../support/terminal.ts";

const runtime = getRuntime();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe("client library and commands with accounts", () => {
  let server: ChatServerProcess;
  beforeAll(async () => {
    server = await startChatServer("bun", ["--rate-per-s", "0", "--operators", "olga"]);
  });
  afterAll(() => server.stop());

  test("the library registers, logs back in after a lost connection, and follows topic and operators", async () => {
    const proxy = await startTcpProxy(server.port);
    const ada = new ChatClient({ runtime, host: "127.0.0.1", port: proxy.port, nick: "ada", backoff: { initialMs: 50, maxMs: 200, factor: 2 } });
    await ada.connect();
    expect(ada.account).toBeUndefined();
    expect(await ada.register("ada-password-1")).toMatchObject({ account: "ada", change: "registered" });
    expect(ada.account).toBe("ada");
    const room = await ada.join("atelier");
    expect(room).toMatchObject({ ops: ["ada"], topic: "" });
    await ada.setTopic("atelier", "oil paint");
    expect(ada.roomInfo("atelier")).toMatchObject({ topic: "oil paint", ops: ["ada"] });

    const welcomes: boolean[] = [];
    ada.on("welcome", (w) => welcomes.push(w.resumed));
    // The client rejoins its rooms one by one after the welcome: wait for atelier's turn.
    const resumed: string[] = [];
    ada.on("resumed", (r) => resumed.push(r.room));
    proxy.cutAll();
    await until("a resumed welcome", () => welcomes.includes(true));
    await until("atelier rejoined", () => resumed.includes("atelier"));
    expect(ada.account).toBe("ada");
    expect(ada.welcome?.account).toBe("ada");

    // Kicked: the client forgets the room and does not rejoin it on the next reconnect.
    const bob = new ChatClient({ runtime, host: "127.0.0.1", port: server.port, nick: "bob" });
    await bob.connect();
    await bob.join("atelier");
    const topics: string[] = [];
    bob.on("topic", (t) => topics.push(t.topic));
    await ada.setTopic("atelier", "watercolour");
    await until("bob hears the topic", () => topics.includes("watercolour"));
    expect(bob.roomInfo("atelier")?.topic).toBe("watercolour");
    await ada.kick("atelier", "bob", "closing");
    await until("bob out of the room", () => !bob.rooms.has("atelier"));
    const refused = await bob.setTopic("atelier", "mine").catch((e) => e);
    expect(refused).toBeInstanceOf(ChatError);
    expect(refused.code).toBe("not_in_room");
    await ada.close();
    await bob.close();
    proxy.close();
  });

  test("the library stops reconnecting, saying why, when its password no longer works", async () => {
    const proxy = await startTcpProxy(server.port);
    const zoe = new ChatClient({ runtime, host: "127.0.0.1", port: proxy.port, nick: "zoe", backoff: { initialMs: 800, maxMs: 800, factor: 1 } });
    await zoe.connect();
    await zoe.register("zoe-password-1");
    const states: { state: string; reason?: string }[] = [];
    zoe.on("state", (s) => states.push(s));
    proxy.cutAll();
    await until("the old session gone", () => states.some((s) => s.state === "reconnecting"));
    await sleep(100);
    // Meanwhile the password is changed from elsewhere.
    const other = await TestClient.connect(server.port);
    expect(await other.request({ type: "hello", nick: "zoe", password: "zoe-password-1" })).toMatchObject({ account: "zoe" });
    await other.request({ type: "passwd", password: "zoe-password-1", new_password: "zoe-password-2" });
    other.send({ type: "quit" });
    await other.waitClosed();
    await until("closed", () => states.at(-1)?.state === "closed", 5000);
    expect(states.at(-1)?.reason).toContain("unauthorized");
    expect(states.filter((s) => s.state === "reconnecting")).toHaveLength(1);
    proxy.close();
  });

  test("tcpchat send reads the password from TCPCHAT_PASSWORD; without it the nick is reserved", async () => {
    const owner = await TestClient.register(server.port, "cronjob");
    await owner.request({ type: "register", password: "cron-password-1" });
    owner.destroy();
    await sleep(50);
    const send = (env: Record<string, string>) =>
      spawnSync(binPath("bun"), ["main.ts", "send", `127.0.0.1:${server.port}`, "--nick", "cronjob", "--room", "ops", "done"], {
        cwd: REPO_ROOT,
        env: { ...process.env, ...env },
        encoding: "utf8",
      });
    const without = send({});
    expect(without.status).toBe(3);
    expect(without.stderr).toContain("nick_reserved");
    const withPassword = send({ TCPCHAT_PASSWORD: "cron-password-1" });
    expect(withPassword.status).toBe(0);
    expect(withPassword.stderr + withPassword.stdout).not.toContain("cron-password-1");
  });

  test.skipIf(!HAVE_TMUX)("tcpchat connect asks for an account's password without echoing it, and /passwd asks for both passwords", async () => {
    const owner = await TestClient.register(server.port, "olga");
    await owner.request({ type: "register", password: "olga-password-1" });
    owner.destroy();
    await sleep(50);
    using pane = TerminalPane.open(
      `tcpchat-acct-${process.pid}`,
      `cd ${REPO_ROOT} && ${binPath("bun")} main.ts connect 127.0.0.1:${server.port} --nick olga; echo EXIT=$?; sleep 60`,
    );
    await pane.waitScreen(/password for olga:/);
    pane.keys("wrong-typed-pw", "Enter");
    await pane.waitScreen(/wrong password/);
    pane.keys("olga-password-1", "Enter");
    await pane.waitScreen(/logged in as olga/);
    pane.keys("/who", "Enter");
    await pane.waitScreen(/@olga \(online\)/);
    pane.keys("/passwd", "Enter");
    await pane.waitScreen(/current password:/);
    pane.keys("olga-password-1", "Enter");
    await pane.waitScreen(/new password:/);
    pane.keys("olga-password-2", "Enter");
    await pane.waitScreen(/Password of olga changed/);
    const text = pane.screen();
    for (const secret of ["wrong-typed-pw", "olga-password-1", "olga-password-2"]) expect(text).not.toContain(secret);
    pane.keys("C-d");
    await pane.waitScreen(/EXIT=0/);
  }, 30_000);
});
