/**
 * History paging against the real server on every runtime: the `history`
 * frame at its edges, resuming through `more` without being cut as a slow
 * consumer (issue 17's first row), the text dialect's `/history`, and the
 * memory budget for history (`history_memory`) under big messages and churn.
 */
import { describe, expect, test } from "bun:test";
import { ChatClient } from "../../lib/client/chat_client.ts";
import type { MsgFrame } from "../../lib/protocol/server_frames.ts";
import { getRuntime } from "../../lib/runtime/mod.ts";
import { type Frame, TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";
import { startTcpProxy } from "../support/tcp_proxy.ts";

/** 4,000 emoji: the longest text max_text allows, 16,000 bytes of UTF-8. */
const BIG_TEXT = "😀".repeat(4000);
const MiB = 1024 * 1024;

/** A gauge or counter from the server's /metrics (started with `--metrics 127.0.0.1:0`). */
async function metric(server: ChatServerProcess, name: string): Promise<number> {
  const line = server.lines().find((l) => l.startsWith("metrics "));
  if (!line) throw new Error(`no metrics line: ${server.stdout()}`);
  const text = await (await fetch(`http://${line.slice("metrics ".length)}/metrics`)).text();
  const sample = text.split("\n").find((l) => l.startsWith(`${name} `));
  if (!sample) throw new Error(`no ${name} in /metrics`);
  return Number(sample.slice(name.length + 1));
}

/** Registers `nick` with no default room, joins `room`, and sends `texts` there, each acknowledged. */
async function sender(port: number, nick: string, room: string, texts: string[]): Promise<TestClient> {
  const c = await TestClient.register(port, nick, { defaultRoom: null });
  expect(await c.request({ type: "join", room })).toMatchObject({ type: "room" });
  for (const text of texts) c.send({ type: "msg", room, text, id: `m${Math.random()}` });
  let acked = 0;
  await c.waitFor((f) => f.type === "msg" && f.from === nick && f.id !== undefined && ++acked === texts.length, 20_000);
  return c;
}

describe.each(SERVER_RUNTIMES)("history (%s)", (runtime) => {
  test("resuming 100 messages of 16,000 bytes: the client is not cut and gets each once, in order, via more and history", async () => {
    await using server = await startChatServer(runtime, ["--rate-per-s", "0", "--default-room", ""]);
    // Ten connections each send ten maximum-size messages: 1.6 MB of kept history, past max_pending (1 MiB).
    const senders = await Promise.all(
      Array.from({ length: 10 }, (_, i) => sender(server.port, `s${i}`, "big", Array(10).fill(BIG_TEXT))),
    );
    // On the wire: the snapshot carries what fits in snapshot_bytes and says more follows.
    const raw = await TestClient.register(server.port, "raw", { defaultRoom: null });
    raw.send({ type: "join", room: "big", since: 0, id: "j" });
    const line = await raw.nextLine(10_000);
    const snapshot = JSON.parse(line);
    expect(snapshot).toMatchObject({ type: "room", room: "big", seq: 100, more: true });
    expect(snapshot.history[0].seq).toBe(1);
    expect(new TextEncoder().encode(line).length).toBeLessThan(256 * 1024 + 1024);
    const page = await raw.request({ type: "history", room: "big", after: snapshot.history.at(-1).seq, limit: 100 });
    expect(page).toMatchObject({ type: "history", room: "big", epoch: snapshot.epoch, more: true });
    expect(page.msgs[0].seq).toBe(snapshot.history.at(-1).seq + 1);
    raw.destroy();

    // The bundled client follows `more` by itself.
    const honest = new ChatClient({ runtime: getRuntime(), host: "127.0.0.1", port: server.port, nick: "honest" });
    const got: MsgFrame[] = [];
    const byes: string[] = [];
    honest.on("msg", (m) => m.room === "big" && got.push(m));
    honest.on("bye", (b) => byes.push(b.reason));
    await honest.connect();
    await honest.join("big", 0);
    expect(byes).toEqual([]);
    expect(got.map((m) => m.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(got.every((m) => m.text === BIG_TEXT)).toBe(true);
    // Still connected and in step: a live message comes once, after the history.
    await senders[0].request({ type: "msg", room: "big", text: "live" });
    const deadline = Date.now() + 5000;
    while (got.length < 101 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(got.slice(100).map((m) => [m.seq, m.text])).toEqual([[101, "live"]]);
    expect(honest.state).toBe("online");
    expect(server.stderr()).not.toContain("slow_consumer");
    await honest.close();
    for (const s of senders) s.destroy();
  }, 60_000);

  test("a client cut off while 100 maximum-size messages pass reconnects and catches up on each once, in order, under the rate limit", async () => {
    // Rate limit on: the reader's pages spend tokens and it must wait for them (32 KiB pages: 2 messages each).
    await using server = await startChatServer(runtime, [
      "--rate-per-s",
      "20",
      "--burst",
      "12",
      "--flood-strikes",
      "100",
      "--snapshot-bytes",
      "32KiB",
      "--history",
      "200",
      "--default-room",
      "",
    ]);
    const proxy = await startTcpProxy(server.port);
    const reader = new ChatClient({
      runtime: getRuntime(),
      host: "127.0.0.1",
      port: proxy.port,
      nick: "reader",
      rooms: ["big"],
      backoff: { initialMs: 1000, maxMs: 1000, factor: 1 },
    });
    const got: number[] = [];
    const resumed: { caughtUp: number; lost: number }[] = [];
    reader.on("msg", (m) => got.push(m.seq));
    reader.on("resumed", (r) => resumed.push(r));
    await reader.connect();
    proxy.cutAll();
    const senders = await Promise.all(
      Array.from({ length: 10 }, (_, i) => sender(server.port, `s${i}`, "big", Array(10).fill(BIG_TEXT))),
    );
    // Live messages while the reader pages: they must come after the history, once.
    reader.on("welcome", (w) => {
      if (w.resumed) for (let i = 0; i < 3; i++) senders[i].send({ type: "msg", room: "big", text: `live ${i}` });
    });
    const deadline = Date.now() + 30_000;
    while (got.length < 103 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual(Array.from({ length: 103 }, (_, i) => i + 1));
    expect(resumed.length).toBe(1);
    expect(resumed[0].lost).toBe(0);
    expect(resumed[0].caughtUp).toBeGreaterThanOrEqual(100);
    expect(reader.state).toBe("online");
    expect(server.stderr()).not.toContain("slow_consumer");
    await reader.close();
    proxy.close();
    for (const s of senders) s.destroy();
  }, 60_000);

  test("history pages at the edges: first and last message, limit, both bounds, pruned history, refusals", async () => {
    await using server = await startChatServer(runtime, ["--rate-per-s", "0", "--history", "20", "--default-room", ""]);
    const texts = Array.from({ length: 30 }, (_, i) => `m${i + 1}`);
    const a = await sender(server.port, "ada", "r", texts);
    const seqs = (f: Frame) => f.msgs.map((m: Frame) => m.seq);
    // Kept: 11..30 (history 20).
    const newest = await a.request({ type: "history", room: "r", limit: 3 });
    expect(newest).toMatchObject({ type: "history", room: "r", seq: 30, more: true });
    expect(typeof newest.epoch).toBe("string");
    expect(seqs(newest)).toEqual([28, 29, 30]);
    expect(seqs(await a.request({ type: "history", room: "r" }))).toEqual(texts.slice(10).map((_, i) => i + 11));
    expect(await a.request({ type: "history", room: "r", after: 30 })).toMatchObject({ msgs: [], more: false });
    expect(seqs(await a.request({ type: "history", room: "r", after: 29 }))).toEqual([30]);
    // Pruned: after 0 starts at the oldest kept; before the oldest kept there is nothing.
    const pruned = await a.request({ type: "history", room: "r", after: 0, limit: 2 });
    expect(seqs(pruned)).toEqual([11, 12]);
    expect(pruned.more).toBe(true);
    expect(await a.request({ type: "history", room: "r", before: 11 })).toMatchObject({ msgs: [], more: false });
    const first = await a.request({ type: "history", room: "r", before: 13 });
    expect(seqs(first)).toEqual([11, 12]);
    expect(first.more).toBe(false);
    expect(seqs(await a.request({ type: "history", room: "r", after: 14, before: 18 }))).toEqual([15, 16, 17]);
    expect(first.msgs[0]).toMatchObject({ type: "msg", room: "r", from: "ada", text: "m11", seq: 11 });

    for (const [limit, field] of [[0, "limit"], [101, "limit"], [1.5, "limit"], ["5", "limit"]] as const) {
      expect(await a.request({ type: "history", room: "r", limit })).toMatchObject({ type: "error", code: "invalid", field });
    }
    expect(await a.request({ type: "history", room: "r", before: -1 })).toMatchObject({ code: "invalid", field: "before" });
    expect(await a.request({ type: "history", room: "#bad room" })).toMatchObject({ code: "invalid", field: "room" });
    const bob = await TestClient.register(server.port, "bob", { defaultRoom: null });
    expect(await bob.request({ type: "history", room: "r" })).toMatchObject({ type: "error", code: "not_in_room" });
    expect(await bob.request({ type: "history", room: "nowhere" })).toMatchObject({ type: "error", code: "not_in_room" });
    a.destroy();
    bob.destroy();
  });

  test("a forgotten room has no history to page, and a new epoch", async () => {
    await using server = await startChatServer(runtime, ["--rate-per-s", "0", "--max-rooms", "1", "--default-room", ""]);
    const a = await sender(server.port, "ada", "old", ["one", "two"]);
    const before = await a.request({ type: "history", room: "old" });
    expect(before.msgs.length).toBe(2);
    await a.request({ type: "leave", room: "old" });
    expect(await a.request({ type: "history", room: "old" })).toMatchObject({ code: "not_in_room" });
    await a.request({ type: "join", room: "new" }); // max_rooms 1: "old" is forgotten
    await a.request({ type: "leave", room: "new" });
    const again = await a.request({ type: "join", room: "old", since: 2 });
    expect(again).toMatchObject({ type: "room", seq: 0, history: [] });
    expect(again.epoch).not.toBe(before.epoch);
    expect(await a.request({ type: "history", room: "old" })).toMatchObject({ msgs: [], more: false, seq: 0 });
    a.destroy();
  });

  test("text dialect: /history shows the last N, again shows earlier ones, then says nothing earlier is kept", async () => {
    await using server = await startChatServer(runtime, ["--rate-per-s", "0", "--default-room", ""]);
    const a = await sender(server.port, "ada", "talk", ["m1", "m2", "m3", "m4", "m5"]);
    const t = await TestClient.connect(server.port);
    t.send("tina\r\n");
    await t.waitForLine("Welcome, tina");
    t.send("/join talk\r\n");
    await t.waitForLine("Now in #talk");
    t.send("/history 2\r\n");
    expect(await t.waitForLine("history")).toBe("* #talk history, messages 4-5 (/history again for earlier ones):");
    expect([await t.nextLine(), await t.nextLine()]).toEqual(["[talk] <ada> m4", "[talk] <ada> m5"]);
    t.send("/history 2\r\n");
    expect(await t.waitForLine("history")).toContain("messages 2-3");
    t.send("/history\r\n");
    expect(await t.waitForLine("history")).toBe("* #talk history, messages 1-1 (nothing earlier is kept):");
    expect(await t.nextLine()).toBe("[talk] <ada> m1");
    t.send("/history 2\r\n"); // the start was reached: from the newest again
    expect(await t.waitForLine("history")).toContain("messages 4-5");
    t.send("/history lots\r\n");
    expect(await t.waitForLine("!")).toMatch(/^! invalid: usage: \/history \[N\]/);
    t.send("/history 101\r\n");
    expect(await t.waitForLine("!")).toMatch(/^! invalid: limit: limit must be 1-100/);
    a.destroy();
    t.destroy();
  });

  test("history held in memory stays under history_memory with many rooms of big messages; /metrics shows it", async () => {
    await using server = await startChatServer(runtime, [
      "--rate-per-s",
      "0",
      "--default-room",
      "",
      "--history-memory",
      "2MiB",
      "--metrics",
      "127.0.0.1:0",
    ]);
    const a = await TestClient.register(server.port, "ada", { defaultRoom: null });
    // 60 rooms x 5 messages of 16,000 bytes: about 4.8 MB sent, more than twice the budget.
    for (let r = 0; r < 60; r++) {
      a.send({ type: "join", room: `room${r}` });
      for (let i = 0; i < 5; i++) a.send({ type: "msg", room: `room${r}`, text: BIG_TEXT });
    }
    await a.request({ type: "ping" }, 30_000);
    const held = await metric(server, "tcpchat_history_bytes");
    expect(held).toBeLessThanOrEqual(2 * MiB);
    expect(held).toBeGreaterThan(1.5 * MiB);
    expect(await metric(server, "tcpchat_history_evicted_total")).toBeGreaterThan(100);
    // The newest room kept all; the first gave way.
    a.send({ type: "join", room: "room59" });
    expect((await a.request({ type: "history", room: "room59" })).msgs.length).toBe(5);
    a.send({ type: "join", room: "room0" });
    expect(await a.request({ type: "history", room: "room0" })).toMatchObject({ msgs: [], seq: 5 });
    a.destroy();
  }, 60_000);

  test("churn from one address (open, burst of maximum-size messages to a fresh room, close) keeps RSS bounded", async () => {
    await using server = await startChatServer(runtime, [
      "--rate-per-s",
      "0",
      "--default-room",
      "",
      "--history-memory",
      "8MiB",
      "--metrics",
      "127.0.0.1:0",
    ]);
    /** Ten connections at a time, each sends a burst of 9 messages of 16,000 bytes to a fresh room and closes. */
    const churn = async (from: number, to: number) => {
      for (let round = from; round < to; round++) {
        await Promise.all(Array.from({ length: 10 }, async (_, i) => {
          const c = await sender(server.port, `c${round}_${i}`, `fresh${round}_${i}`, Array(9).fill(BIG_TEXT));
          c.destroy();
        }));
      }
    };
    // The runtimes' heaps first grow to their working size (V8's by 150-200 MiB here), then level off.
    await churn(0, 60);
    const rssWarm = server.rssBytes();
    // 1,300 more connections: 187 MB of history offered (past the 128 MiB bound below), which the server
    // without a budget kept.
    await churn(60, 190);
    expect(await metric(server, "tcpchat_history_bytes")).toBeLessThanOrEqual(8 * MiB);
    const grown = server.rssBytes() - rssWarm;
    console.log(`${runtime}: churn grew RSS by ${(grown / MiB).toFixed(1)} MiB after warm-up (history_memory 8 MiB)`);
    expect(grown).toBeLessThan(128 * MiB);
  }, 120_000);
});
