/**
 * Accounts and moderation across the nodes of a cluster (three nodes, a
 * redis-server of the test's own): an account made on one node logs in on
 * another; topic, modes, operators and bans set on one node are what members
 * of every node see and what every node enforces; operators kick, ban and
 * kill users of other nodes; and all of it outlives restarting every node.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Frame, TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, SERVER_RUNTIMES } from "../support/chat_server.ts";
import { type RedisProcess, startNodes, startRedis } from "../support/redis_server.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let names = 0;
const nick = (prefix: string) => `${prefix}${++names}`;
const OPERATOR_FLAGS = ["--operators", "root"];

/** Connects to `port` as `who` and registers the account (password `${who}-password`). */
async function account(port: number, who: string): Promise<TestClient> {
  const c = await TestClient.register(port, who, { defaultRoom: null });
  expect(await c.request({ type: "register", password: `${who}-password` }, 5000)).toMatchObject({ type: "account", change: "registered" });
  return c;
}

/** Logs in to `who`'s account on `port`. */
async function login(port: number, who: string): Promise<TestClient> {
  const c = await TestClient.connect(port);
  expect(await c.request({ type: "hello", nick: who, password: `${who}-password` }, 5000)).toMatchObject({ type: "welcome", account: who });
  return c;
}

describe.each(SERVER_RUNTIMES)("cluster moderation (%s)", (runtime) => {
  let redis: RedisProcess;
  let nodes: ChatServerProcess[];
  let root: TestClient;
  beforeAll(async () => {
    redis = await startRedis();
    nodes = await startNodes(runtime, redis.url, 3, OPERATOR_FLAGS);
    root = await account(nodes[2].port, "root");
  });
  afterAll(async () => {
    root?.destroy();
    await Promise.all((nodes ?? []).map((n) => n.stop()));
    await redis?.kill();
  });

  test("an account registered on node 1 logs in on node 2, and its nick needs the password there", async () => {
    const who = nick("ada");
    const first = await account(nodes[0].port, who);
    first.destroy();
    await sleep(100);
    const guest = await TestClient.connect(nodes[1].port);
    expect(await guest.request({ type: "hello", nick: who }, 5000)).toMatchObject({ type: "error", code: "nick_reserved" });
    expect(await guest.request({ type: "hello", nick: who, password: "wrong-password-9" }, 5000)).toMatchObject({
      type: "error",
      code: "unauthorized",
    });
    guest.destroy();
    (await login(nodes[1].port, who)).destroy();
  }, 20_000);

  test("a client that sends join right behind hello (without waiting for welcome) joins, as on one node", async () => {
    const c = await TestClient.connect(nodes[1].port);
    const who = nick("quick");
    c.send(JSON.stringify({ type: "hello", nick: who }) + "\n" + JSON.stringify({ type: "join", room: "pipelined", id: "j1" }) + "\n");
    expect(await c.waitFor((f) => f.id === "j1", 5000)).toMatchObject({ type: "room", room: "pipelined" });
    c.destroy();
  }, 10_000);

  test("topic, modes and op set on node 1 reach members on node 2, who sees the operator marked in who", async () => {
    const room = nick("garden");
    const ownerNick = nick("own");
    const owner = await account(nodes[0].port, ownerNick);
    expect(await owner.request({ type: "join", room }, 5000)).toMatchObject({ ops: [ownerNick] });
    const memberNick = nick("mem");
    const member = await account(nodes[1].port, memberNick);
    await member.request({ type: "join", room }, 5000);
    owner.send({ type: "topic", room, topic: "roses and thorns" });
    expect(await member.waitFor((f) => f.type === "topic", 5000)).toMatchObject({ room, topic: "roses and thorns", by: ownerNick });
    owner.send({ type: "mode", room, invite_only: true });
    expect(await member.waitFor((f) => f.type === "mode", 5000)).toMatchObject({ room, by: ownerNick, modes: { invite_only: true } });
    const joinerNick = nick("late");
    const joiner = await TestClient.register(nodes[2].port, joinerNick, { defaultRoom: null });
    expect(await joiner.request({ type: "join", room }, 5000)).toMatchObject({ type: "error", code: "invite_only" });
    const who = await member.request({ type: "who", room }, 5000);
    const entries = Object.fromEntries((who.users as Frame[]).map((u) => [u.nick, u]));
    expect(entries[ownerNick]).toMatchObject({ account: ownerNick, op: true });
    expect(entries[memberNick]).toMatchObject({ account: memberNick });
    expect(entries[memberNick].op).toBeUndefined();
    // The operator on node 1 locks the topic (topic_lock, the default) for a plain member on node 2 too.
    expect(await member.request({ type: "topic", room, topic: "mine now" }, 5000)).toMatchObject({ type: "error", code: "not_op" });
    // A plain member of node 2 may not invite to an invite-only room.
    expect(await member.request({ type: "invite", room, nick: joinerNick }, 5000)).toMatchObject({ type: "error", code: "not_op" });
    owner.send({ type: "op", room, nick: memberNick });
    expect(await member.waitFor((f) => f.type === "role", 5000)).toMatchObject({ room, nick: memberNick, account: memberNick, op: true, by: ownerNick });
    // Now an operator (node 2 learnt it from node 1), the member invites node 3's user past invite-only.
    expect(await member.request({ type: "invite", room, nick: joinerNick }, 5000)).toMatchObject({ type: "invite", room, from: memberNick });
    expect(await joiner.waitFor((f) => f.type === "invite", 5000)).toMatchObject({ room, from: memberNick });
    expect(await joiner.request({ type: "join", room }, 5000)).toMatchObject({
      type: "room",
      topic: "roses and thorns",
      modes: { invite_only: true },
    });
    const whoAgain = await joiner.request({ type: "who", room }, 5000);
    expect((whoAgain.users as Frame[]).filter((u) => u.op).map((u) => u.nick).sort()).toEqual([memberNick, ownerNick].sort());
    for (const c of [owner, member, joiner]) c.destroy();
  }, 30_000);

  test("an operator on node 1 kicks and bans a user of node 2: every member sees it, and the ban refuses a join on node 3", async () => {
    const room = nick("yard");
    const op = await account(nodes[0].port, nick("op"));
    const opNick = (await op.request({ type: "join", room }, 5000)).ops[0];
    const witness = await TestClient.register(nodes[2].port, nick("wit"), { defaultRoom: null });
    await witness.request({ type: "join", room }, 5000);
    const pestNick = nick("pest");
    const pest = await TestClient.register(nodes[1].port, pestNick, { defaultRoom: null });
    await pest.request({ type: "join", room }, 5000);
    await sleep(100);
    expect(await op.request({ type: "kick", room, nick: pestNick, reason: "calm down" }, 5000)).toMatchObject({
      type: "leave",
      room,
      nick: pestNick,
      reason: "kicked",
      by: opNick,
      note: "calm down",
    });
    for (const c of [pest, witness]) {
      expect(await c.waitFor((f) => f.type === "leave", 5000)).toMatchObject({ room, nick: pestNick, reason: "kicked", by: opNick });
    }
    await pest.request({ type: "join", room }, 5000);
    await sleep(100);
    expect(await op.request({ type: "ban", room, nick: pestNick, reason: "again" }, 5000)).toMatchObject({
      type: "ban",
      mask: `nick:${pestNick}`,
    });
    expect(await pest.waitFor((f) => f.type === "leave", 5000)).toMatchObject({ room, nick: pestNick, reason: "banned", by: opNick });
    expect(await witness.waitFor((f) => f.type === "leave", 5000)).toMatchObject({ nick: pestNick, reason: "banned" });
    // The op's own copy of the leave came once, with the server's answer; no second copy from the relay.
    await sleep(300);
    expect(op.lines.map((l) => JSON.parse(l)).filter((f) => f.type === "leave" && f.nick === pestNick)).toHaveLength(1);
    expect(await pest.request({ type: "join", room }, 5000)).toMatchObject({ type: "error", code: "banned" });
    pest.destroy();
    await sleep(100);
    const again = await TestClient.register(nodes[2].port, pestNick, { defaultRoom: null });
    expect(await again.request({ type: "join", room }, 5000)).toMatchObject({ type: "error", code: "banned" });
    expect(await op.request({ type: "kick", room, nick: "nobody-here" }, 5000)).toMatchObject({ type: "error", code: "not_in_room" });
    for (const c of [op, witness, again]) c.destroy();
  }, 30_000);

  test("a ban of a user of another node who is not in the room holds there: its later join is refused, by account when logged in", async () => {
    const room = nick("porch");
    const op = await account(nodes[0].port, nick("op"));
    const opNick = (await op.request({ type: "join", room }, 5000)).ops[0];
    const guestNick = nick("roam");
    const guest = await TestClient.register(nodes[1].port, guestNick, { defaultRoom: null });
    const loggedNick = nick("acct");
    const logged = await account(nodes[2].port, loggedNick);
    // Logged in under another nick: the ban names the account, as on one node.
    const alias = nick("alias");
    expect(await logged.request({ type: "nick", nick: alias }, 5000)).toMatchObject({ type: "nick", new: alias });
    await sleep(100);
    expect(await op.request({ type: "ban", room, nick: guestNick, reason: "not here" }, 5000)).toMatchObject({
      type: "ban",
      room,
      mask: `nick:${guestNick}`,
      by: opNick,
    });
    expect(await op.request({ type: "ban", room, nick: alias }, 5000)).toMatchObject({ type: "ban", mask: `account:${loggedNick}` });
    expect(await guest.request({ type: "join", room }, 5000)).toMatchObject({ type: "error", code: "banned" });
    expect(await logged.request({ type: "join", room }, 5000)).toMatchObject({ type: "error", code: "banned" });
    expect(await op.request({ type: "bans", room }, 5000)).toMatchObject({
      bans: expect.arrayContaining([
        expect.objectContaining({ mask: `nick:${guestNick}`, reason: "not here" }),
        expect.objectContaining({ mask: `account:${loggedNick}` }),
      ]),
    });
    // Each answer came once (the requests took them): no second copy of a ban event relayed back to the operator.
    await sleep(300);
    expect(op.lines.map((l) => JSON.parse(l)).filter((f) => f.type === "ban")).toHaveLength(0);
    expect(await op.request({ type: "ban", room, nick: "nobody-at-all" }, 5000)).toMatchObject({ type: "error", code: "no_such_user" });
    // A server operator elsewhere (its node knows it is one) is not banned by a room operator.
    expect(await op.request({ type: "ban", room, nick: "root" }, 5000)).toMatchObject({ type: "error", code: "not_op" });
    expect(await root.request({ type: "join", room }, 5000)).toMatchObject({ type: "room", room });
    await root.request({ type: "leave", room }, 5000);
    for (const c of [op, guest, logged]) c.destroy();
  }, 30_000);

  test("a guest operator on node 1 ops a guest of node 2, kicks and sets the topic there; the new operator acts from node 2; who and a locked topic count guest operators of every node", async () => {
    const room = nick("shed");
    const opNick = nick("gop");
    const op = await TestClient.register(nodes[0].port, opNick, { defaultRoom: null });
    expect(await op.request({ type: "join", room }, 5000)).toMatchObject({ type: "room", room });
    const helperNick = nick("ghelp");
    const helper = await TestClient.register(nodes[1].port, helperNick, { defaultRoom: null });
    await helper.request({ type: "join", room }, 5000);
    const pestNick = nick("gpest");
    const pest = await TestClient.register(nodes[1].port, pestNick, { defaultRoom: null });
    await pest.request({ type: "join", room }, 5000);
    // Joining a room with members on another node makes no operator of the first joiner here.
    expect(await helper.request({ type: "kick", room, nick: pestNick }, 5000)).toMatchObject({ type: "error", code: "not_op" });
    expect(await op.request({ type: "topic", room, topic: "tools only" }, 5000)).toMatchObject({ type: "topic", by: opNick });
    expect(await pest.waitFor((f) => f.type === "topic" && f.topic === "tools only", 5000)).toMatchObject({ by: opNick });
    // The guest operator of node 1 counts on node 2: the topic is locked to a plain member there, and who marks it.
    expect(await pest.request({ type: "topic", room, topic: "pests rule" }, 5000)).toMatchObject({ type: "error", code: "not_op" });
    const opsSeen = async (c: TestClient) => ((await c.request({ type: "who", room }, 5000)).users as Frame[]).filter((u) => u.op).map((u) => u.nick).sort();
    expect(await opsSeen(pest)).toEqual([opNick]);
    expect(await op.request({ type: "op", room, nick: helperNick }, 5000)).toMatchObject({ type: "role", room, nick: helperNick, op: true, by: opNick });
    expect(await helper.waitFor((f) => f.type === "role", 5000)).toMatchObject({ nick: helperNick, op: true, by: opNick });
    await sleep(100);
    expect(await opsSeen(op)).toEqual([helperNick, opNick].sort());
    expect(await helper.request({ type: "kick", room, nick: pestNick, reason: "out" }, 5000)).toMatchObject({
      type: "leave",
      nick: pestNick,
      reason: "kicked",
      by: helperNick,
    });
    expect(await op.waitFor((f) => f.type === "leave" && f.nick === pestNick, 5000)).toMatchObject({ reason: "kicked", by: helperNick });
    await pest.request({ type: "join", room }, 5000);
    expect(await op.request({ type: "kick", room, nick: pestNick }, 5000)).toMatchObject({ type: "leave", reason: "kicked", by: opNick });
    expect(await pest.waitFor((f) => f.type === "leave" && f.by === opNick, 5000)).toMatchObject({ nick: pestNick });
    expect(await op.request({ type: "deop", room, nick: helperNick }, 5000)).toMatchObject({ type: "role", op: false });
    expect(await helper.waitFor((f) => f.type === "role" && f.op === false, 5000)).toMatchObject({ nick: helperNick });
    await sleep(100);
    expect(await opsSeen(op)).toEqual([opNick]);
    // Once the guest operator is gone, node 2 no longer counts it: the topic is free to a plain member again (as on one node).
    await pest.request({ type: "join", room }, 5000);
    op.destroy();
    await sleep(200);
    expect(await opsSeen(pest)).toEqual([]);
    expect(await pest.request({ type: "topic", room, topic: "free again" }, 5000)).toMatchObject({ type: "topic", by: pestNick });
    expect(await helper.request({ type: "mode", room, invite_only: true }, 5000)).toMatchObject({ type: "error", code: "not_op" });
    for (const c of [helper, pest]) c.destroy();
  }, 30_000);

  test("a server operator on node 3 kills a user of node 1; killing a nick nobody holds is no_such_user", async () => {
    const victimNick = nick("vic");
    const victim = await TestClient.register(nodes[0].port, victimNick, { defaultRoom: null });
    await sleep(100);
    expect(await root.request({ type: "kill", nick: victimNick, reason: "spam" }, 5000)).toMatchObject({
      type: "presence",
      nick: victimNick,
      status: "offline",
      reason: "killed",
    });
    expect(await victim.waitFor((f) => f.type === "bye", 5000)).toMatchObject({ reason: "killed" });
    expect(await root.request({ type: "kill", nick: "ghost-user" }, 5000)).toMatchObject({ type: "error", code: "no_such_user" });
    const plain = await TestClient.register(nodes[1].port, nick("plain"), { defaultRoom: null });
    expect(await plain.request({ type: "kill", nick: "root" }, 5000)).toMatchObject({ type: "error", code: "not_op" });
    plain.destroy();
  }, 20_000);

  test("restarting every node keeps accounts, topic, modes, operators and bans", async () => {
    const room = nick("keep");
    const ownerNick = nick("keeper");
    const owner = await account(nodes[0].port, ownerNick);
    await owner.request({ type: "join", room }, 5000);
    await owner.request({ type: "topic", room, topic: "kept across restarts" }, 5000);
    await owner.request({ type: "mode", room, key: "door-key-1" }, 5000);
    const banned = nick("out");
    const bad = await TestClient.register(nodes[0].port, banned, { defaultRoom: null });
    await owner.request({ type: "ban", room, nick: banned }, 5000);
    bad.destroy();
    owner.destroy();
    root.destroy();
    await Promise.all(nodes.map((n) => n.stop()));
    nodes = await startNodes(runtime, redis.url, 3, OPERATOR_FLAGS);
    root = await login(nodes[2].port, "root");
    const back = await login(nodes[1].port, ownerNick);
    expect(await back.request({ type: "join", room, key: "door-key-1" }, 5000)).toMatchObject({
      type: "room",
      topic: "kept across restarts",
      ops: [ownerNick],
      modes: { key: true, topic_lock: true, invite_only: false },
    });
    expect(await back.request({ type: "bans", room }, 5000)).toMatchObject({ bans: [{ mask: `nick:${banned}`, by: ownerNick }] });
    const outsider = await TestClient.register(nodes[2].port, banned, { defaultRoom: null });
    expect(await outsider.request({ type: "join", room, key: "door-key-1" }, 5000)).toMatchObject({ type: "error", code: "banned" });
    for (const c of [back, outsider]) c.destroy();
  }, 40_000);
});

