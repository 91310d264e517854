/**
 * Accounts and room state in the data directory, against the real server on
 * every runtime: a restart (SIGTERM or SIGKILL right after the last answer)
 * keeps accounts and their passwords, a room's account operators, topic,
 * modes and bans; `tcpchat account` makes an account (and so a server
 * operator) before the first start, refuses while a server holds the lock,
 * lists without hashes; no password appears in any output or log.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Frame, TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";
import { runTcpchat } from "../support/cli_run.ts";
import { binPath, REPO_ROOT } from "../support/runtimes.ts";
import { HAVE_TMUX, TerminalPane } from "../support/terminal.ts";

const root = mkdtempSync(join(tmpdir(), "tcpchat-durable-accounts-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;
const freshDir = () => join(root, `d${++dirCount}`);

/** Every password used here: none may appear in any output. */
const SECRETS = ["ada-garden-pass", "bob-helper-pass", "kim-banned-pass", "root-cli-pass-1", "wrong-guess-99", "root-new-pass-2"];

/** Runs `tcpchat ARGS` to its end under `runtime`, with `stdin` written to it and `env` added. */
const run = runTcpchat;

/** Connects and logs in to `nick`'s account; the welcome. */
async function login(port: number, nick: string, password: string): Promise<{ client: TestClient; welcome: Frame }> {
  const client = await TestClient.connect(port);
  const welcome = await client.request({ type: "hello", nick, password });
  return { client, welcome };
}

/** Asserts that no secret is in `text`. */
function expectNoSecrets(text: string): void {
  for (const secret of SECRETS) expect(text.includes(secret) ? secret : "").toBe("");
}

describe.each(SERVER_RUNTIMES)("accounts and room state survive restarts (%s)", (runtime) => {
  const start = (dir: string, flags: string[] = []) =>
    startChatServer(runtime, ["--rate-per-s", "1000", "--burst", "1000", "--default-room", "", "--data-dir", dir, ...flags]);

  for (const signal of ["SIGKILL", "SIGTERM"] as const) {
    test(`after ${signal}: logins, account operators, topic, modes and bans are as they were`, async () => {
      const dir = freshDir();
      let server: ChatServerProcess = await start(dir);
      const logs: string[] = [];
      try {
        const ada = await TestClient.register(server.port, "ada", { defaultRoom: null });
        expect(await ada.request({ type: "register", password: SECRETS[0] })).toMatchObject({ type: "account", change: "registered" });
        const bob = await TestClient.register(server.port, "bob", { defaultRoom: null });
        await bob.request({ type: "register", password: SECRETS[1] });
        const kim = await TestClient.register(server.port, "kim", { defaultRoom: null });
        await kim.request({ type: "register", password: SECRETS[2] });
        const pat = await TestClient.register(server.port, "pat", { defaultRoom: null });
        expect(await ada.request({ type: "join", room: "garden" })).toMatchObject({ ops: ["ada"] });
        for (const c of [bob, kim, pat]) await c.request({ type: "join", room: "garden" });
        expect(await ada.request({ type: "op", room: "garden", nick: "bob" })).toMatchObject({ type: "role", op: true });
        expect(await ada.request({ type: "ban", room: "garden", nick: "kim", reason: "spam" })).toMatchObject({ mask: "account:kim" });
        expect(await ada.request({ type: "ban", room: "garden", nick: "pat" })).toMatchObject({ mask: "nick:pat" });
        expect(await ada.request({ type: "topic", room: "garden", topic: "roses" })).toMatchObject({ type: "topic" });
        // garden has messages, so the server brings it back at start; shed has none and is made again on join.
        expect(await ada.request({ type: "msg", room: "garden", text: "welcome" })).toMatchObject({ seq: 1 });
        await ada.request({ type: "join", room: "shed" });
        await ada.request({ type: "topic", room: "shed", topic: "tools" });
        await ada.request({ type: "mode", room: "shed", key: "shed-key" });
        // The last answer before the signal: it must not have left before its change was committed.
        expect(await ada.request({ type: "mode", room: "garden", invite_only: true, key: "gate-key", topic_lock: false }))
          .toMatchObject({ type: "mode", modes: { invite_only: true, key: true, topic_lock: false } });
        server.signal(signal);
        await server.exited;
        logs.push(server.stdout(), server.stderr());
        for (const c of [ada, bob, kim, pat]) c.destroy();

        server = await start(dir);
        const wrong = await login(server.port, "ada", SECRETS[4]);
        expect(wrong.welcome).toMatchObject({ type: "error", code: "unauthorized" });
        wrong.client.destroy();
        const guest = await TestClient.register(server.port, "ADA2", { defaultRoom: null });
        expect(await guest.request({ type: "nick", nick: "ada" })).toMatchObject({ code: "nick_reserved" });
        guest.destroy();
        const back = await login(server.port, "ada", SECRETS[0]);
        expect(back.welcome).toMatchObject({ type: "welcome", account: "ada" });
        // Operators join past invite-only and the key; the snapshot shows what was kept.
        const snapshot = await back.client.request({ type: "join", room: "garden" });
        expect(snapshot).toMatchObject({ type: "room", topic: "roses", modes: { invite_only: true, key: true, topic_lock: false } });
        expect([...snapshot.ops].sort()).toEqual(["ada", "bob"]);
        expect(await back.client.request({ type: "join", room: "shed" })).toMatchObject({ topic: "tools", ops: ["ada"], modes: { key: true } });
        const bans = await back.client.request({ type: "bans", room: "garden" });
        expect(bans.bans.map((b: Frame) => [b.mask, b.by, b.reason]).sort()).toEqual([["account:kim", "ada", "spam"], ["nick:pat", "ada", ""]]);
        // The bans hold: by account under another nick, and by nick for a guest.
        const kimBack = await login(server.port, "kim", SECRETS[2]);
        expect(kimBack.welcome).toMatchObject({ account: "kim" });
        await kimBack.client.request({ type: "nick", nick: "kim2" });
        expect(await kimBack.client.request({ type: "join", room: "garden" })).toMatchObject({ code: "banned" });
        const patBack = await TestClient.register(server.port, "pat", { defaultRoom: null });
        expect(await patBack.request({ type: "join", room: "garden" })).toMatchObject({ code: "banned" });
        // Invite-only holds, and so does the key itself once the room is open again.
        const cy = await TestClient.register(server.port, "cy", { defaultRoom: null });
        expect(await cy.request({ type: "join", room: "shed" })).toMatchObject({ code: "bad_key" });
        expect(await cy.request({ type: "join", room: "garden", key: "gate-key" })).toMatchObject({ code: "invite_only" });
        await back.client.request({ type: "mode", room: "garden", invite_only: false });
        expect(await cy.request({ type: "join", room: "garden", key: "wrong-key" })).toMatchObject({ code: "bad_key" });
        expect(await cy.request({ type: "join", room: "garden", key: "gate-key" })).toMatchObject({ type: "room" });
        // topic_lock off: any member sets the topic.
        expect(await cy.request({ type: "topic", room: "garden", topic: "tulips" })).toMatchObject({ type: "topic", topic: "tulips" });
        // bob is still an account operator: he logs in and operates.
        const bobBack = await login(server.port, "bob", SECRETS[1]);
        await bobBack.client.request({ type: "join", room: "garden" });
        expect(await bobBack.client.request({ type: "kick", room: "garden", nick: "cy" })).not.toMatchObject({ type: "error" });
        for (const c of [back.client, kimBack.client, patBack, cy, bobBack.client]) c.destroy();
      } finally {
        await server.stop();
        logs.push(server.stdout(), server.stderr());
        expectNoSecrets(logs.join("\n"));
      }
    }, 30_000);
  }

  test("tcpchat account add before the first start makes an account that logs in and, in --operators, can kill", async () => {
    const dir = freshDir();
    const outputs: string[] = [];
    // From stdin's first line (not a terminal, no TCPCHAT_PASSWORD).
    const add = await run(runtime, ["account", "add", "Root", "--data-dir", dir, "--email", "root@example.org"], {
      stdin: `${SECRETS[3]}\n`,
    });
    outputs.push(add.stdout, add.stderr);
    expect([add.code, add.stdout.trim()]).toEqual([0, "added Root"]);
    // From TCPCHAT_PASSWORD.
    const passwd = await run(runtime, ["account", "passwd", "root", "--data-dir", dir], { env: { TCPCHAT_PASSWORD: SECRETS[5] } });
    outputs.push(passwd.stdout, passwd.stderr);
    expect([passwd.code, passwd.stdout.trim()]).toEqual([0, "password of Root changed"]);
    const helper = await run(runtime, ["account", "add", "helper", "--data-dir", dir], { env: { TCPCHAT_PASSWORD: SECRETS[1] } });
    expect(helper.code).toBe(0);
    const list = await run(runtime, ["account", "list", "--data-dir", dir]);
    outputs.push(list.stdout, list.stderr);
    expect(list.code).toBe(0);
    const rows = list.stdout.trim().split("\n").map((l) => l.split("\t"));
    expect(rows.map((r) => [r[0], r[2] ?? ""])).toEqual([["helper", ""], ["Root", "root@example.org"]]);
    // Never a hash, a salt or the record they are kept in.
    const { Database } = await import("bun:sqlite");
    const db = new Database(join(dir, "tcpchat.db"), { readonly: true });
    const records = db.query("SELECT password FROM accounts").all() as { password: string }[];
    db.close();
    expect(records.length).toBe(2);
    for (const { password } of records) {
      const record = JSON.parse(password);
      expect(record.algo).toBe("scrypt");
      expect(list.stdout).not.toContain(record.hash);
      expect(list.stdout).not.toContain(record.salt);
    }
    expect(list.stdout).not.toContain("scrypt");

    const server = await start(dir, ["--operators", "root"]);
    try {
      const old = await login(server.port, "root", SECRETS[3]);
      expect(old.welcome).toMatchObject({ code: "unauthorized" });
      old.client.destroy();
      const op = await login(server.port, "root", SECRETS[5]);
      expect(op.welcome).toMatchObject({ type: "welcome", account: "Root" });
      const eve = await TestClient.register(server.port, "eve", { defaultRoom: null });
      expect(await op.client.request({ type: "kill", nick: "eve", reason: "test" })).toMatchObject({ reason: "killed" });
      expect(await eve.waitFor((f) => f.type === "bye")).toEqual({ type: "bye", reason: "killed" });
      // An account that is not in --operators may not.
      const h = await login(server.port, "helper", SECRETS[1]);
      const victim = await TestClient.register(server.port, "victim", { defaultRoom: null });
      expect(await h.client.request({ type: "kill", nick: "victim" })).toMatchObject({ code: "not_op" });
      for (const c of [op.client, eve, h.client, victim]) c.destroy();
    } finally {
      await server.stop();
      outputs.push(server.stdout(), server.stderr());
      expectNoSecrets(outputs.join("\n"));
    }
  }, 30_000);

  test("tcpchat account refuses (exit 2) while a server holds the data directory, and works once it stopped", async () => {
    const dir = freshDir();
    const server = await start(dir);
    let refused;
    try {
      refused = await run(runtime, ["account", "add", "late", "--data-dir", dir], { env: { TCPCHAT_PASSWORD: SECRETS[1] } });
      const list = await run(runtime, ["account", "list", "--data-dir", dir]);
      expect(list.code).toBe(2);
    } finally {
      await server.stop();
    }
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`data directory ${dir} is in use by a running tcpchat server`);
    expect(refused.stderr).toContain("stop the server first, or register through the server");
    expect(refused.stderr).not.toContain("    at ");
    expect(refused.stdout).toBe("");
    const after = await run(runtime, ["account", "add", "late", "--data-dir", dir], { env: { TCPCHAT_PASSWORD: SECRETS[1] } });
    expect([after.code, after.stdout.trim()]).toEqual([0, "added late"]);
  }, 30_000);
});

describe("tcpchat account on a terminal", () => {
  /** Runs `tcpchat account ARGS` in a tmux pane; returns the pane's text once `done` matches it. */
  async function inTerminal(args: string, typed: string[], done: RegExp): Promise<string> {
    using pane = TerminalPane.open(
      `tcpchat-account-${process.pid}-${++dirCount}`,
      `cd ${REPO_ROOT} && TCPCHAT_PASSWORD= ${binPath("bun")} main.ts account ${args}; echo EXIT=$?; sleep 60`,
    );
    for (const [i, text] of typed.entries()) {
      await pane.waitScreen(i === 0 ? /password for \w+:/ : /again:/);
      pane.keys(text, "Enter");
    }
    return await pane.waitScreen(done);
  }

  test.skipIf(!HAVE_TMUX)("asks for the password twice without echoing it; two different answers change nothing (exit 3)", async () => {
    const dir = freshDir();
    const added = await inTerminal(`add Tess --data-dir ${dir}`, [SECRETS[0], SECRETS[0]], /EXIT=\d/);
    expect(added).toMatch(/added Tess\s+EXIT=0/);
    expect(added).not.toContain(SECRETS[0]);
    const differ = await inTerminal(`passwd tess --data-dir ${dir}`, [SECRETS[1], SECRETS[5]], /EXIT=\d/);
    expect(differ).toContain("the two passwords differ; nothing was changed");
    expect(differ).toContain("EXIT=3");
    for (const secret of [SECRETS[1], SECRETS[5]]) expect(differ).not.toContain(secret);
    // The first password still holds: the server takes it.
    const server = await startChatServer("bun", ["--default-room", "", "--data-dir", dir]);
    try {
      const { client, welcome } = await login(server.port, "tess", SECRETS[0]);
      expect(welcome).toMatchObject({ type: "welcome", account: "Tess" });
      client.destroy();
    } finally {
      await server.stop();
    }
  }, 30_000);
});
