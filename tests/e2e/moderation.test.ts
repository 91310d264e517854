/**
 * Room operators and moderation as users see them: snapshots with topic,
 * operators and modes; keys, invite-only rooms, bans and kicks; server
 * operators and kill; bad input; every action logged and counted.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Frame, TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";

describe.each(SERVER_RUNTIMES)("moderation (%s)", (runtime) => {
  let server: ChatServerProcess;
  let root: TestClient;
  beforeAll(async () => {
    server = await startChatServer(runtime, [
      "--operators",
      "root",
      "--rate-per-s",
      "1000",
      "--burst",
      "1000",
      "--metrics",
      "127.0.0.1:0",
    ]);
    root = await TestClient.register(server.port, "root");
    await root.request({ type: "register", password: "root-password-1" });
  });
  afterAll(() => server.stop());

  async function login(nick: string, password: string): Promise<TestClient> {
    const client = await TestClient.connect(server.port);
    const welcome = await client.request({ type: "hello", nick, password });
    expect(welcome).toMatchObject({ type: "welcome", account: nick });
    return client;
  }

  test("the creator operates its room: the snapshot has topic, operators and modes (never the key)", async () => {
    const ada = await TestClient.register(server.port, "ada");
    await ada.request({ type: "register", password: "ada-password" });
    expect(await ada.request({ type: "join", room: "garden" })).toMatchObject({
      type: "room",
      topic: "",
      ops: ["ada"],
      modes: { invite_only: false, key: false, topic_lock: true },
    });
    expect(await ada.request({ type: "topic", room: "garden", topic: "roses" })).toMatchObject({
      type: "topic",
      room: "garden",
      topic: "roses",
      by: "ada",
    });
    expect(await ada.request({ type: "mode", room: "garden", key: "s3cret-key" })).toMatchObject({
      type: "mode",
      modes: { key: true },
    });
    const bob = await TestClient.register(server.port, "bob");
    expect(await bob.request({ type: "join", room: "garden" })).toMatchObject({ type: "error", code: "bad_key" });
    expect(await bob.request({ type: "join", room: "garden", key: "wrong" })).toMatchObject({ code: "bad_key" });
    const snapshot = await bob.request({ type: "join", room: "garden", key: "s3cret-key" });
    expect(snapshot).toMatchObject({ type: "room", topic: "roses", ops: ["ada"], modes: { key: true } });
    expect(JSON.stringify(snapshot)).not.toContain("s3cret-key");
    const who = await bob.request({ type: "who", room: "garden" });
    expect(who.users).toContainEqual(expect.objectContaining({ nick: "ada", account: "ada", op: true }));
    expect(who.users.find((u: Frame) => u.nick === "bob").op).toBeUndefined();
    // An account operator stays one across a reconnect.
    ada.destroy();
    const back = await login("ada", "ada-password");
    expect(await back.request({ type: "join", room: "garden" })).toMatchObject({ ops: ["ada"] });
    expect(await back.request({ type: "topic", room: "garden", topic: "tulips" })).toMatchObject({ type: "topic" });
    expect(await bob.waitFor((f) => f.type === "topic" && f.topic === "tulips")).toMatchObject({ by: "ada" });
    back.destroy();
    bob.destroy();
  });

  test("a guest creator is an operator until it disconnects; then the room has none", async () => {
    const gus = await TestClient.register(server.port, "gus");
    expect(await gus.request({ type: "join", room: "shed" })).toMatchObject({ ops: [] });
    const mia = await TestClient.register(server.port, "mia");
    await mia.request({ type: "join", room: "shed" });
    expect((await mia.request({ type: "who", room: "shed" })).users).toContainEqual(expect.objectContaining({ nick: "gus", op: true }));
    expect(await mia.request({ type: "topic", room: "shed", topic: "mine" })).toMatchObject({ code: "not_op" });
    expect(await gus.request({ type: "op", room: "shed", nick: "mia" })).toMatchObject({ type: "role", nick: "mia", op: true });
    expect(await mia.request({ type: "kick", room: "shed", nick: "gus", reason: "coup" })).toMatchObject({
      type: "leave",
      nick: "gus",
      reason: "kicked",
      by: "mia",
      note: "coup",
    });
    expect(await gus.waitFor((f) => f.type === "leave")).toMatchObject({ nick: "gus", reason: "kicked" });
    // Kicked, not banned: it may come back.
    expect(await gus.request({ type: "join", room: "shed" })).toMatchObject({ type: "room" });
    mia.destroy();
    await gus.waitFor((f) => f.type === "leave" && f.nick === "mia");
    expect(await gus.request({ type: "topic", room: "shed", topic: "anyone may" })).toMatchObject({ type: "topic" });
    gus.destroy();
  });

  test("invite-only rooms need an invite, which lets one join once", async () => {
    const ivy = await TestClient.register(server.port, "ivy");
    await ivy.request({ type: "join", room: "club" });
    await ivy.request({ type: "mode", room: "club", invite_only: true });
    const jo = await TestClient.register(server.port, "jo");
    expect(await jo.request({ type: "join", room: "club" })).toMatchObject({ code: "invite_only" });
    expect(await ivy.request({ type: "invite", room: "club", nick: "jo" })).toMatchObject({ type: "invite", room: "club", from: "ivy" });
    expect(await jo.waitFor((f) => f.type === "invite")).toEqual({ type: "invite", room: "club", from: "ivy" });
    expect(await jo.request({ type: "join", room: "club" })).toMatchObject({ type: "room" });
    await jo.request({ type: "leave", room: "club" });
    expect(await jo.request({ type: "join", room: "club" })).toMatchObject({ code: "invite_only" });
    expect(await jo.request({ type: "invite", room: "club", nick: "jo" })).toMatchObject({ code: "not_in_room" });
    ivy.destroy();
    jo.destroy();
  });

  test("a ban by account holds across nicks; a guest's ban holds by nick; operators see bans", async () => {
    const op = await TestClient.register(server.port, "boss");
    await op.request({ type: "join", room: "bar" });
    const kim = await TestClient.register(server.port, "kim");
    await kim.request({ type: "register", password: "kim-password" });
    await kim.request({ type: "join", room: "bar" });
    const pat = await TestClient.register(server.port, "pat");
    await pat.request({ type: "join", room: "bar" });
    expect(await op.request({ type: "ban", room: "bar", nick: "kim", reason: "spam" })).toMatchObject({
      type: "ban",
      mask: "account:kim",
      by: "boss",
    });
    expect(await kim.waitFor((f) => f.type === "leave")).toMatchObject({ nick: "kim", reason: "banned", by: "boss", note: "spam" });
    expect(await pat.waitFor((f) => f.type === "leave")).toMatchObject({ nick: "kim", reason: "banned" });
    // Members who are not operators do not hear the ban itself.
    expect(pat.lines.some((l) => l.includes('"type":"ban"'))).toBe(false);
    await kim.request({ type: "nick", nick: "kim2" });
    expect(await kim.request({ type: "join", room: "bar" })).toMatchObject({ code: "banned" });
    expect(await op.request({ type: "ban", room: "bar", nick: "pat" })).toMatchObject({ mask: "nick:pat" });
    expect(await pat.request({ type: "join", room: "bar" })).toMatchObject({ code: "banned" });
    const bans = await op.request({ type: "bans", room: "bar" });
    expect(bans.bans.map((b: Frame) => b.mask).sort()).toEqual(["account:kim", "nick:pat"]);
    expect(bans.bans.find((b: Frame) => b.mask === "account:kim")).toMatchObject({ by: "boss", reason: "spam" });
    expect(await op.request({ type: "unban", room: "bar", mask: "nick:PAT" })).toMatchObject({ type: "ban", mask: "nick:pat", removed: true });
    expect(await pat.request({ type: "join", room: "bar" })).toMatchObject({ type: "room" });
    for (const c of [op, kim, pat]) c.destroy();
  });

  test("a server operator operates every room, lobby included, and kill disconnects with bye killed", async () => {
    const lobbyWho = await root.request({ type: "who", room: "lobby" });
    expect(lobbyWho.users).toContainEqual(expect.objectContaining({ nick: "root", account: "root", op: true }));
    const eve = await TestClient.register(server.port, "eve");
    const witness = await TestClient.register(server.port, "witness");
    expect(await eve.request({ type: "topic", room: "lobby", topic: "mine now" })).toMatchObject({ code: "not_op" });
    expect(await root.request({ type: "kill", nick: "eve", reason: "spam" })).toMatchObject({
      type: "presence",
      nick: "eve",
      status: "offline",
      reason: "killed",
    });
    expect(await eve.waitFor((f) => f.type === "bye")).toEqual({ type: "bye", reason: "killed" });
    await eve.waitClosed();
    expect(await witness.waitFor((f) => f.type === "leave" && f.nick === "eve")).toMatchObject({ reason: "killed" });
    // Nobody but another server operator may act on a server operator.
    const mod = await TestClient.register(server.port, "mod");
    await mod.request({ type: "join", room: "den" });
    await root.request({ type: "join", room: "den" });
    expect(await mod.request({ type: "kick", room: "den", nick: "root" })).toMatchObject({ code: "not_op" });
    expect(await mod.request({ type: "ban", room: "den", nick: "root" })).toMatchObject({ code: "not_op" });
    expect(await mod.request({ type: "deop", room: "den", nick: "root" })).toMatchObject({ code: "invalid", field: "nick" });
    for (const c of [witness, mod]) c.destroy();
  });

  test("bad input: overlong topics and keys, invalid masks, oneself, absent users", async () => {
    const op = await TestClient.register(server.port, "badop");
    await op.request({ type: "join", room: "lab" });
    const cases: [Frame, Frame][] = [
      [{ type: "topic", room: "lab", topic: "x".repeat(301) }, { code: "invalid", field: "topic" }],
      [{ type: "topic", room: "lab", topic: "é".repeat(300) }, { type: "topic" }],
      [{ type: "mode", room: "lab", key: "k".repeat(65) }, { code: "invalid", field: "key" }],
      [{ type: "mode", room: "lab" }, { code: "invalid" }],
      [{ type: "mode", room: "lab", invite_only: "yes" }, { code: "invalid", field: "invite_only" }],
      [{ type: "join", room: "lab", key: "k".repeat(65) }, { code: "invalid", field: "key" }],
      [{ type: "unban", room: "lab", mask: "host:*" }, { code: "invalid", field: "mask" }],
      [{ type: "unban", room: "lab", mask: "nick:" }, { code: "invalid", field: "mask" }],
      [{ type: "unban", room: "lab", mask: "nick:nobody" }, { code: "invalid", field: "mask" }],
      [{ type: "kick", room: "lab", nick: "badop" }, { code: "invalid", field: "nick" }],
      [{ type: "ban", room: "lab", nick: "BadOp" }, { code: "invalid", field: "nick" }],
      [{ type: "kick", room: "lab", nick: "ghost" }, { code: "no_such_user" }],
      [{ type: "ban", room: "lab", nick: "ghost" }, { code: "no_such_user" }],
      [{ type: "op", room: "lab", nick: "ghost" }, { code: "no_such_user" }],
      [{ type: "kick", room: "lab", nick: "root" }, { code: "not_op" }],
      [{ type: "kick", room: "nowhere", nick: "root" }, { code: "no_such_room" }],
      [{ type: "kick", room: "lab", nick: "root", reason: "r".repeat(201) }, { code: "invalid", field: "reason" }],
      [{ type: "kill", nick: "root" }, { code: "not_op" }],
      [{ type: "topic", room: "lab", topic: "a\ud800b" }, { code: "invalid", field: "topic" }],
      [{ type: "kick", room: "lab", nick: "root", reason: "\udc00" }, { code: "invalid", field: "reason" }],
    ];
    for (const [frame, expected] of cases) {
      expect({ frame, answer: await op.request(frame) }).toMatchObject({ frame, answer: expected });
    }
    expect(await op.request({ type: "kick", room: "lab", nick: "witness_absent" })).toMatchObject({ code: "no_such_user" });
    expect(await root.request({ type: "kill", nick: "root" })).toMatchObject({ code: "invalid", field: "nick" });
    op.destroy();
  });

  test("every moderation action is logged with who, what, whom, where and why, and counted", async () => {
    const op = await TestClient.register(server.port, "logop");
    await op.request({ type: "join", room: "logs" });
    const target = await TestClient.register(server.port, "logged");
    await target.request({ type: "join", room: "logs" });
    await op.request({ type: "kick", room: "logs", nick: "logged", reason: "testing logs" });
    // Only whole lines: stderr may have delivered half of the last one so far.
    const kickLine = () => server.stderr().split("\n").slice(0, -1).find((l) => l.includes('"action":"kick"') && l.includes("logged"));
    const deadline = Date.now() + 3000;
    while (!kickLine() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(JSON.parse(kickLine()!).properties).toMatchObject({
      action: "kick",
      by: "logop",
      target: "logged",
      room: "logs",
      reason: "testing logs",
      peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
    });
    const url = server.lines().find((l) => l.startsWith("metrics "))!.slice("metrics ".length);
    const metrics = await (await fetch(`http://${url}/metrics`)).text();
    expect(metrics).toMatch(/^tcpchat_moderation_actions_total\{action="kick"\} [1-9]/m);
    expect(metrics).toMatch(/^tcpchat_account_events_total\{event="register"\} [1-9]/m);
    op.destroy();
    target.destroy();
  });

  test("in a crowded room, operators' comings and goings are still told one by one, and the snapshot lists them first", async () => {
    await using crowded = await startChatServer(runtime, ["--crowd-size", "3", "--crowd-interval", "200ms", "--snapshot-members", "2"]);
    const boss = await TestClient.register(crowded.port, "zzop");
    await boss.request({ type: "register", password: "zzop-password" });
    await boss.request({ type: "join", room: "big" });
    const members = [];
    for (const nick of ["m1", "m2", "m3", "m4"]) {
      const c = await TestClient.register(crowded.port, nick);
      await c.request({ type: "join", room: "big" });
      members.push(c);
    }
    const late = await TestClient.register(crowded.port, "late");
    const snapshot = await late.request({ type: "join", room: "big" });
    expect(snapshot.members).toEqual(["late", "zzop"]);
    expect(snapshot.member_count).toBe(6);
    const watcher = members[0];
    watcher.clear();
    members[1].send({ type: "leave", room: "big" });
    boss.send({ type: "leave", room: "big" });
    expect(await watcher.waitFor((f) => f.type === "leave")).toMatchObject({ nick: "zzop", reason: "left" });
    expect(await watcher.waitFor((f) => f.type === "crowd" && f.room === "big")).toMatchObject({ left: 1 });
    expect(watcher.lines.some((l) => l.includes('"nick":"m2"'))).toBe(false);
    for (const c of [boss, late, ...members]) c.destroy();
  });
});
