/**
 * Cluster faults on the real server: a node SIGKILLed in the middle of a
 * message storm (its users resume exactly on another node, the others see
 * them leave once), and the path between a node and Redis cut and healed
 * (no false ack, recovery within seconds, nothing skipped or sent twice).
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Frame, TestClient } from "../support/chat_client.ts";
import { SERVER_RUNTIMES } from "../support/chat_server.ts";
import { startNode, startNodes, startRedis } from "../support/redis_server.ts";
import { startTcpProxy } from "../support/tcp_proxy.ts";
import { eventually } from "../support/eventually.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const recorded = new WeakMap<TestClient, Frame[]>();
/** Starts keeping every frame `c` receives from now on (TestClient's own buffer is consumed by `request`). */
function record(c: TestClient): TestClient {
  const out: Frame[] = [];
  let buffer = "";
  c.socket.on("data", (data: Buffer) => {
    buffer += data.toString();
    for (let i = buffer.indexOf("\n"); i >= 0; i = buffer.indexOf("\n")) {
      out.push(JSON.parse(buffer.slice(0, i)));
      buffer = buffer.slice(i + 1);
    }
  });
  recorded.set(c, out);
  return c;
}
const frames = (c: TestClient): Frame[] => recorded.get(c)!;
const msgsOf = (c: TestClient, room: string) => frames(c).filter((f) => f.type === "msg" && f.room === room);



/** Registers `nick` on `port`, retrying while the nick is still held (by a dead node not yet reaped). */
async function registerRetrying(port: number, nick: string, timeoutMs = 6000): Promise<TestClient> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = await TestClient.connect(port);
    const answer = await c.request({ type: "hello", nick });
    if (answer.type === "welcome") return c;
    c.destroy();
    if (Date.now() > deadline) throw new Error(`hello ${nick} kept failing: ${JSON.stringify(answer)}`);
    await sleep(100);
  }
}

/** Seqs are consecutive from the first one: no gap, no duplicate. */
function expectConsecutive(seqs: number[]): void {
  expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0] + i));
}

describe.each(SERVER_RUNTIMES)("cluster faults (%s)", (runtime) => {
  test("a node SIGKILLed mid-storm: its user resumes exactly on another node, the others see it leave once and go offline", async () => {
    const redis = await startRedis();
    const nodes = await startNodes(runtime, redis.url);
    try {
      const room = "storm";
      const writer = record(await TestClient.register(nodes[0].port, "writer", { defaultRoom: null }));
      await writer.request({ type: "join", room });
      const reader = record(await TestClient.register(nodes[1].port, "reader", { defaultRoom: null }));
      await reader.request({ type: "join", room });
      const victim = record(await TestClient.register(nodes[2].port, "victim", { defaultRoom: null }));
      await victim.request({ type: "join", room });
      const total = 300;
      const storm = (async () => {
        for (let i = 1; i <= total; i++) {
          writer.send({ type: "msg", room, text: `m${i}`, id: `m${i}` });
          if (i % 20 === 0) await sleep(10);
        }
      })();
      await eventually(() => msgsOf(victim, room).length >= 50, "the victim to see the storm");
      nodes[2].signal("SIGKILL");
      await nodes[2].exited;
      await storm;
      const seen = msgsOf(victim, room).map((f) => f.seq);
      victim.destroy();
      expectConsecutive(seen);
      const back = record(await registerRetrying(nodes[1].port, "victim"));
      const snap = await back.joinSince(room, seen.at(-1)!, 5000);
      const history: Frame[] = snap.history;
      await eventually(() => msgsOf(writer, room).length >= total, "every ack");
      await eventually(() => snap.seq + msgsOf(back, room).length >= total, "the rest", 5000);
      const all = [...seen, ...history.map((m: Frame) => m.seq), ...msgsOf(back, room).map((f) => f.seq)];
      expect(all).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      await sleep(300);
      const leaves = frames(reader).filter((f) => f.type === "leave" && f.nick === "victim");
      expect(leaves).toEqual([{ type: "leave", room, nick: "victim", reason: "disconnect" }]);
      const offline = frames(reader).filter((f) => f.type === "presence" && f.nick === "victim");
      expect(offline).toEqual([{ type: "presence", nick: "victim", status: "offline", reason: "disconnect" }]);
      // It joined, left once when its node was found dead, and joined again from the other node.
      const story = frames(reader).filter((f) => (f.type === "join" || f.type === "leave") && f.nick === "victim").map((f) => f.type);
      expect(story).toEqual(["join", "leave", "join"]);
      for (const c of [writer, reader, back]) c.destroy();
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
      await redis.kill();
    }
  }, 30_000);

  test("the path to Redis cut and healed: unavailable meanwhile, never a false ack; the node catches up without gaps or duplicates", async () => {
    const redis = await startRedis();
    const proxy = await startTcpProxy(redis.port);
    const other = await startNode(runtime, redis.url, ["--node-lease", "4000"]);
    const cut = await startNode(runtime, `redis://127.0.0.1:${proxy.port}`, ["--node-lease", "4000", "--metrics", "127.0.0.1:0"]);
    try {
      const metricsAddr = (await cut.waitForLine(/^metrics /)).split(" ")[1];
      const ready = async () => (await fetch(`http://${metricsAddr}/readyz`)).status;
      const room = "cut";
      const here = record(await TestClient.register(cut.port, "here", { defaultRoom: null }));
      await here.request({ type: "join", room });
      const there = record(await TestClient.register(other.port, "there", { defaultRoom: null }));
      await there.request({ type: "join", room });
      await here.request({ type: "msg", room, text: "before" });
      expect(await ready()).toBe(200);

      proxy.refusing = true;
      proxy.cutAll();
      await sleep(300);
      expect(await ready()).toBe(503);
      const answers: Frame[] = [];
      for (let i = 0; i < 5; i++) answers.push(await here.request({ type: "msg", room, text: `during${i}` }, 4000));
      for (const a of answers) expect(a).toMatchObject({ type: "error", code: "unavailable" });
      expect(answers[0].retry_after_ms).toBeGreaterThan(0);
      for (let i = 0; i < 5; i++) await there.request({ type: "msg", room, text: `there${i}` });

      proxy.refusing = false;
      const healedAt = Date.now();
      await eventually(() => msgsOf(here, room).some((f) => f.text === "there4"), "the node to catch up", 5000);
      expect(Date.now() - healedAt).toBeLessThan(5000);
      expect(await ready()).toBe(200);
      const metrics = await (await fetch(`http://${metricsAddr}/metrics`)).text();
      expect(metrics).toMatch(/^tcpchat_redis_up\{node="[0-9a-z]+"\} 1$/m);
      expect(Number(metrics.match(/^tcpchat_redis_errors_total\{[^}]*\} (\d+)/m)?.[1])).toBeGreaterThanOrEqual(5);
      expect(Number(metrics.match(/^tcpchat_cluster_filled_total\{[^}]*\} (\d+)/m)?.[1])).toBeGreaterThanOrEqual(5);
      const ack = await here.request({ type: "msg", room, text: "after" });
      expect(ack).toMatchObject({ type: "msg", text: "after" });
      await eventually(() => msgsOf(there, room).some((f) => f.text === "after"), "the other node to see it");
      const texts = msgsOf(here, room).map((f) => f.text);
      expect(texts).toEqual(["before", "there0", "there1", "there2", "there3", "there4", "after"]);
      expectConsecutive(msgsOf(here, room).map((f) => f.seq));
      expect(msgsOf(there, room).map((f) => f.text)).toEqual(texts);
      here.destroy();
      there.destroy();
    } finally {
      proxy.close();
      await Promise.all([cut.stop(), other.stop()]);
      await redis.kill();
    }
  }, 30_000);

  test("a node cut from Redis for longer than its lease: the others see its users leave; when it is back they rejoin and messages flow again", async () => {
    const redis = await startRedis();
    const proxy = await startTcpProxy(redis.port);
    const other = await startNode(runtime, redis.url);
    const cut = await startNode(runtime, `redis://127.0.0.1:${proxy.port}`);
    try {
      const room = "away";
      const here = record(await TestClient.register(cut.port, "here", { defaultRoom: null }));
      await here.request({ type: "join", room });
      const there = record(await TestClient.register(other.port, "there", { defaultRoom: null }));
      await there.request({ type: "join", room });
      proxy.refusing = true;
      proxy.cutAll();
      await eventually(() => frames(there).some((f) => f.type === "leave" && f.nick === "here"), "the leave", 5000);
      expect(frames(there).find((f) => f.type === "leave" && f.nick === "here")).toMatchObject({ reason: "disconnect" });
      proxy.refusing = false;
      await eventually(() => frames(there).some((f) => f.type === "join" && f.nick === "here"), "the rejoin", 5000);
      const who = await there.request({ type: "who", room });
      expect(who.users.map((u: Frame) => u.nick).sort()).toEqual(["here", "there"]);
      await here.request({ type: "msg", room, text: "back" });
      await eventually(() => msgsOf(there, room).some((f) => f.text === "back"), "the message");
      here.destroy();
      there.destroy();
    } finally {
      proxy.close();
      await Promise.all([cut.stop(), other.stop()]);
      await redis.kill();
    }
  }, 30_000);

  test("Redis SIGKILLed and restarted (append-only file, fsync always) mid-storm: every acked message is kept with its seq, and the nodes carry on by themselves", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tcpchat-redis-"));
    const persistent = ["--dir", dir, "--appendonly", "yes", "--appendfsync", "always", "--save", ""];
    let redis = await startRedis(persistent);
    const [a, b] = await startNodes(runtime, redis.url, 2, ["--node-lease", "5000"]);
    try {
      const room = "crash";
      const writer = record(await TestClient.register(a.port, "writer", { defaultRoom: null }));
      await writer.request({ type: "join", room });
      const reader = record(await TestClient.register(b.port, "reader", { defaultRoom: null }));
      await reader.request({ type: "join", room });
      const answers: Frame[] = [];
      let stop = false;
      const storm = (async () => {
        for (let i = 1; !stop; i++) {
          answers.push(await writer.request({ type: "msg", room, text: `m${i}` }, 5000));
          if (answers.at(-1)!.type === "error") await sleep(50);
        }
      })();
      await sleep(300);
      await redis.kill();
      await sleep(500);
      redis = await startRedis(persistent, redis.port);
      await eventually(() => answers.slice(-3).every((f) => f.type === "msg") && answers.some((f) => f.type === "error"), "acks again", 8000);
      stop = true;
      await storm;
      const acks = answers.filter((f) => f.type === "msg");
      expect(answers.filter((f) => f.type === "error").every((f) => f.code === "unavailable")).toBe(true);
      // Every ack is in the room's history under its seq, and the seqs have no gap.
      const history: Frame[] = (await reader.joinSince(room, 0, 5000)).history;
      const kept = new Map(history.map((m) => [m.seq, m.text]));
      for (const ack of acks) expect([ack.seq, kept.get(ack.seq)]).toEqual([ack.seq, ack.text]);
      expectConsecutive(history.map((m) => m.seq));
      // The reader on the other node got every acked message live, in order, once.
      await eventually(() => msgsOf(reader, room).length >= acks.length, "the reader to catch up", 5000);
      const live = msgsOf(reader, room).map((f) => f.seq);
      expectConsecutive(live);
      expect(live[0]).toBe(1);
      for (const c of [writer, reader]) c.destroy();
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await redis.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  test("all nodes restarted against the same Redis: history, seq and epoch are kept", async () => {
    const redis = await startRedis();
    let nodes = await startNodes(runtime, redis.url, 2);
    try {
      const room = "kept";
      const c = await TestClient.register(nodes[0].port, "first", { defaultRoom: null });
      const snap = await c.request({ type: "join", room });
      for (let i = 1; i <= 5; i++) await c.request({ type: "msg", room, text: `m${i}` });
      c.destroy();
      await Promise.all(nodes.map((n) => n.stop()));
      nodes = await startNodes(runtime, redis.url, 2);
      const d = await TestClient.register(nodes[1].port, "second", { defaultRoom: null });
      const again = await d.joinSince(room, 0, 5000);
      const history: Frame[] = again.history;
      expect(again.epoch).toBe(snap.epoch);
      expect(again.seq).toBe(5);
      expect(history.map((m) => m.text)).toEqual(["m1", "m2", "m3", "m4", "m5"]);
      expect(await d.request({ type: "msg", room, text: "m6" })).toMatchObject({ seq: 6 });
      d.destroy();
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
      await redis.kill();
    }
  }, 30_000);

  test("a node stopped with SIGTERM hands its users over: the others see each leave once, reason shutdown, and the nick is free at once", async () => {
    const redis = await startRedis();
    const [a, b] = await startNodes(runtime, redis.url, 2);
    try {
      const room = "bye";
      const leaving = await TestClient.register(a.port, "leaving", { defaultRoom: null });
      await leaving.request({ type: "join", room });
      const watcher = record(await TestClient.register(b.port, "watcher", { defaultRoom: null }));
      await watcher.request({ type: "join", room });
      await a.stop();
      await eventually(() => frames(watcher).some((f) => f.type === "presence" && f.nick === "leaving"), "the offline presence");
      await sleep(200);
      expect(frames(watcher).filter((f) => f.nick === "leaving" && (f.type === "leave" || f.type === "presence"))).toEqual([
        { type: "leave", room, nick: "leaving", reason: "shutdown" },
        { type: "presence", nick: "leaving", status: "offline", reason: "shutdown" },
      ]);
      const again = await TestClient.connect(b.port);
      expect(await again.request({ type: "hello", nick: "leaving" })).toMatchObject({ type: "welcome" });
      for (const c of [leaving, watcher, again]) c.destroy();
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await redis.kill();
    }
  }, 30_000);

  test("a rolling restart step (SIGUSR2 lame duck): the user is told to go, reconnects to another node and resumes exactly; the others see one leave", async () => {
    const redis = await startRedis();
    const [a, b] = await startNodes(runtime, redis.url, 2, ["--shutdown-grace", "200"]);
    try {
      const room = "roll";
      const mover = record(await TestClient.register(a.port, "mover", { defaultRoom: null }));
      await mover.request({ type: "join", room });
      const talker = record(await TestClient.register(b.port, "talker", { defaultRoom: null }));
      await talker.request({ type: "join", room });
      for (let i = 1; i <= 3; i++) await talker.request({ type: "msg", room, text: `m${i}` });
      await eventually(() => msgsOf(mover, room).length === 3, "the first messages");
      a.signal("SIGUSR2");
      await eventually(() => frames(mover).some((f) => f.type === "bye"), "bye");
      expect(frames(mover).find((f) => f.type === "bye")).toMatchObject({ reason: "shutdown" });
      for (let i = 4; i <= 6; i++) await talker.request({ type: "msg", room, text: `m${i}` });
      const back = record(await registerRetrying(b.port, "mover"));
      const history: Frame[] = (await back.joinSince(room, 3, 5000)).history;
      expect(history.map((m) => m.text)).toEqual(["m4", "m5", "m6"]);
      await a.exited;
      const leaves = frames(talker).filter((f) => f.type === "leave" && f.nick === "mover");
      expect(leaves).toEqual([{ type: "leave", room, nick: "mover", reason: "shutdown" }]);
      for (const c of [mover, talker, back]) c.destroy();
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await redis.kill();
    }
  }, 30_000);
});
