/**
 * Several nodes over one Redis, on the real server: one order per room
 * across nodes, nicks, DMs, `who` and `rooms` across nodes, and the faults
 * (a node killed mid-storm, the path to Redis cut and healed).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { type Frame, TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, SERVER_RUNTIMES } from "../support/chat_server.ts";
import { freePort, type RedisProcess, startNodes, startRedis } from "../support/redis_server.ts";
import { commandFor, REPO_ROOT } from "../support/runtimes.ts";
import { eventually } from "../support/eventually.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const frames = (c: TestClient): Frame[] => c.lines.map((l) => JSON.parse(l));
const msgsOf = (c: TestClient, room: string) => frames(c).filter((f) => f.type === "msg" && f.room === room);
let names = 0;
const nick = (prefix: string) => `${prefix}${++names}`;

/** Registers `nick` on `port` and joins `room`. */
async function member(port: number, who: string, room: string): Promise<TestClient> {
  const c = await TestClient.register(port, who, { defaultRoom: null });
  await c.request({ type: "join", room }, 5000);
  return c;
}



describe.each(SERVER_RUNTIMES)("cluster (%s)", (runtime) => {
  let redis: RedisProcess;
  let nodes: ChatServerProcess[];
  beforeAll(async () => {
    redis = await startRedis();
    nodes = await startNodes(runtime, redis.url);
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.kill();
  });

  test("publishers on every node: every member on every node sees one seq order, without gaps or duplicates, and each sender gets its ack", async () => {
    const room = nick("storm");
    const members = await Promise.all(nodes.flatMap((n, i) => [member(n.port, nick(`m${i}x`), room), member(n.port, nick(`m${i}y`), room)]));
    const perPublisher = 40;
    const publishers = members.filter((_, i) => i % 2 === 0);
    await Promise.all(publishers.map(async (p, i) => {
      for (let k = 0; k < perPublisher; k++) p.send({ type: "msg", room, text: `p${i}-${k}`, id: `p${i}-${k}` });
    }));
    const total = perPublisher * publishers.length;
    for (const m of members) await eventually(() => msgsOf(m, room).length >= total, `${total} messages`, 10_000);
    await sleep(200);
    const orders = members.map((m) => msgsOf(m, room).map((f) => `${f.seq}:${f.text}`));
    for (const order of orders) expect(order).toEqual(orders[0]);
    expect(msgsOf(members[0], room).map((f) => f.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    publishers.forEach((p, i) => {
      const acks = msgsOf(p, room).filter((f) => f.id !== undefined);
      expect(acks.map((f) => f.id)).toEqual(Array.from({ length: perPublisher }, (_, k) => `p${i}-${k}`));
    });
    for (const m of members) m.destroy();
  }, 30_000);

  test("a nick taken on one node is refused on another, and free there once its holder quits", async () => {
    const name = nick("dup");
    const a = await TestClient.register(nodes[0].port, name, { defaultRoom: null });
    const b = await TestClient.connect(nodes[1].port);
    const refused = await b.request({ type: "hello", nick: name.toUpperCase() });
    expect(refused).toMatchObject({ type: "error", code: "nick_taken" });
    a.send({ type: "quit" });
    await a.waitClosed();
    await sleep(100);
    expect(await b.request({ type: "hello", nick: name })).toMatchObject({ type: "welcome", nick: name });
    b.destroy();
  });

  test("a DM reaches a user on another node, and the sender gets its copy; an unknown nick is no_such_user", async () => {
    const [from, to] = [nick("dmf"), nick("dmt")];
    const a = await TestClient.register(nodes[0].port, from, { defaultRoom: null });
    const b = await TestClient.register(nodes[2].port, to, { defaultRoom: null });
    const copy = await a.request({ type: "dm", to, text: "over there" });
    expect(copy).toMatchObject({ type: "dm", from, to, text: "over there" });
    expect(await b.waitFor((f) => f.type === "dm")).toMatchObject({ type: "dm", from, to, text: "over there" });
    expect(await a.request({ type: "dm", to: "nobody-here", text: "x" })).toMatchObject({ type: "error", code: "no_such_user" });
    a.destroy();
    b.destroy();
  });

  test("who, rooms, joins, leaves, nick changes and away are seen across nodes", async () => {
    const room = nick("hall");
    const [n1, n2] = [nick("ann"), nick("bob")];
    const a = await member(nodes[0].port, n1, room);
    const b = await TestClient.register(nodes[1].port, n2, { defaultRoom: null });
    const snap = await b.request({ type: "join", room });
    expect(snap.members.sort()).toEqual([n1, n2].sort());
    await a.waitFor((f) => f.type === "join" && f.nick === n2);
    const who = await a.request({ type: "who", room });
    expect(who.users.map((u: Frame) => u.nick).sort()).toEqual([n1, n2].sort());
    const rooms = await b.request({ type: "rooms" });
    expect(rooms.rooms.find((r: Frame) => r.name === room)).toMatchObject({ members: 2 });
    b.send({ type: "status", status: "away", note: "lunch" });
    expect(await a.waitFor((f) => f.type === "presence")).toMatchObject({ nick: n2, status: "away", note: "lunch" });
    const renamed = nick("bobby");
    b.send({ type: "nick", nick: renamed });
    expect(await a.waitFor((f) => f.type === "nick")).toMatchObject({ old: n2, new: renamed });
    b.send({ type: "leave", room });
    expect(await a.waitFor((f) => f.type === "leave")).toMatchObject({ room, nick: renamed, reason: "left" });
    expect((await a.request({ type: "who", room })).users.map((u: Frame) => u.nick)).toEqual([n1]);
    a.destroy();
    b.destroy();
  });

  test("join with since on another node resumes exactly from the shared history", async () => {
    const room = nick("resume");
    const a = await member(nodes[0].port, nick("w"), room);
    for (let i = 1; i <= 10; i++) await a.request({ type: "msg", room, text: `m${i}` });
    const b = await TestClient.register(nodes[1].port, nick("r"), { defaultRoom: null });
    const snap = await b.joinSince(room, 4, 5000);
    const history: Frame[] = snap.history;
    expect(snap.seq).toBe(10);
    expect(history.map((m: Frame) => m.text)).toEqual(["m5", "m6", "m7", "m8", "m9", "m10"]);
    const page = await b.request({ type: "history", room, before: 5, limit: 2 });
    expect(page.msgs.map((m: Frame) => m.seq)).toEqual([3, 4]);
    a.destroy();
    b.destroy();
  });

  test("a room with members on another node is not new: its first joiner here gets no operator rights; a kick here is seen there and leaves who", async () => {
    const room = nick("shed");
    const [bossNick, guestNick, watcherNick] = [nick("boss"), nick("guest"), nick("watch")];
    const boss = await TestClient.register(nodes[0].port, bossNick, { defaultRoom: null });
    await boss.request({ type: "join", room });
    const watcher = await TestClient.register(nodes[1].port, watcherNick, { defaultRoom: null });
    await watcher.request({ type: "join", room });
    expect(await watcher.request({ type: "op", room, nick: watcherNick })).toMatchObject({ code: "not_op" });
    const guest = await TestClient.register(nodes[0].port, guestNick, { defaultRoom: null });
    await guest.request({ type: "join", room });
    await watcher.waitFor((f) => f.type === "join" && f.nick === guestNick);
    expect(await boss.request({ type: "kick", room, nick: guestNick, reason: "out" })).toMatchObject({ type: "leave", reason: "kicked" });
    expect(await watcher.waitFor((f) => f.type === "leave" && f.nick === guestNick)).toMatchObject({ reason: "kicked", by: bossNick, note: "out" });
    const who = await watcher.request({ type: "who", room });
    expect(who.users.map((u: Frame) => u.nick).sort()).toEqual([bossNick, watcherNick].sort());
    for (const c of [boss, watcher, guest]) c.destroy();
  });

  test("a node whose Redis cannot be reached at start exits 2 with one line saying so", async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const argv = await commandFor(runtime, "main.ts", ["serve", "--cluster", url, "--port", "0"]);
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
      const child = spawn(argv[0]!, argv.slice(1), { cwd: REPO_ROOT, stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (d) => (stderr += d));
      child.on("close", (code) => resolve({ code: code ?? -1, stderr }));
    });
    expect(code).toBe(2);
    expect(stderr.trim()).toBe(`tcpchat: cannot reach the cluster's Redis at ${url}: connect ECONNREFUSED ${url.slice(8)}`);
  }, 20_000);
});
