import { describe, expect, test } from "bun:test";
import { HistoryBudget } from "../../lib/hub/history_budget.ts";
import { answerHistory, pageByteCap, snapshotHistory } from "../../lib/hub/history_paging.ts";
import { jsonStringBytes, msgBytes } from "../../lib/hub/msg_bytes.ts";
import { RoomHistory } from "../../lib/hub/room_history.ts";
import type { MsgFrame, ServerFrame } from "../../lib/protocol/server_frames.ts";

const msg = (seq: number, text = `m${seq}`, room = "r"): MsgFrame => ({ type: "msg", room, from: "ada", text, seq, ts: 1000 + seq });
const BIG = 1e9;

/** A history holding seqs 1..n (capacity `capacity`). */
function filled(n: number, capacity = 100, text?: (seq: number) => string): RoomHistory {
  const h = new RoomHistory(capacity);
  for (let seq = 1; seq <= n; seq++) h.push(msg(seq, text?.(seq)));
  return h;
}
const seqs = (msgs: MsgFrame[]) => msgs.map((m) => m.seq);
/** A source that answers later (a store across the network): snapshots then defer to paging. */
const LATER_SOURCE = { room: "r", source: { page: () => Promise.resolve({ msgs: [], more: false }) } };

describe("message size", () => {
  test("counts UTF-8 bytes as JSON.stringify writes them, escapes and lone surrogates included", () => {
    for (const text of ["hello", "é", "日本", "😀".repeat(4000), 'q"\\', "\u0001\n", "\ud800", "a\udc00b"]) {
      const encoded = new TextEncoder().encode(JSON.stringify(text)).length - 2;
      expect(jsonStringBytes(text)).toBe(encoded);
    }
  });

  test("a message is charged at least its encoded frame", () => {
    const m = msg(123456, "😀".repeat(4000));
    expect(msgBytes(m)).toBeGreaterThanOrEqual(new TextEncoder().encode(JSON.stringify(m) + "\n").length);
  });
});

describe("RoomHistory.page", () => {
  const h = filled(30);
  const page = (q: { after?: number; before?: number; limit?: number; maxBytes?: number }) =>
    h.page({ limit: 50, maxBytes: BIG, ...q });

  test("with neither before nor after, the newest limit messages, oldest first", () => {
    expect(seqs(page({ limit: 5 }).msgs)).toEqual([26, 27, 28, 29, 30]);
    expect(page({ limit: 5 }).more).toBe(true);
    expect(page({}).msgs.length).toBe(30);
    expect(page({}).more).toBe(false);
  });

  test("before gives the newest messages below it; at the first message there is nothing before", () => {
    expect(seqs(page({ before: 10, limit: 3 }).msgs)).toEqual([7, 8, 9]);
    expect(seqs(page({ before: 2 }).msgs)).toEqual([1]);
    expect(page({ before: 2 }).more).toBe(false);
    expect(page({ before: 1 })).toEqual({ msgs: [], more: false, reachesPast: false });
    expect(page({ before: 0 }).msgs).toEqual([]);
  });

  test("after gives the oldest messages above it; at the last message there is nothing after", () => {
    expect(seqs(page({ after: 0, limit: 3 }).msgs)).toEqual([1, 2, 3]);
    expect(page({ after: 0, limit: 3 }).more).toBe(true);
    expect(seqs(page({ after: 28 }).msgs)).toEqual([29, 30]);
    expect(page({ after: 28 }).more).toBe(false);
    expect(page({ after: 30 })).toEqual({ msgs: [], more: false, reachesPast: false });
    expect(page({ after: 1000 }).msgs).toEqual([]);
  });

  test("both before and after: the oldest messages between them", () => {
    expect(seqs(page({ after: 5, before: 9 }).msgs)).toEqual([6, 7, 8]);
    expect(seqs(page({ after: 5, before: 20, limit: 2 }).msgs)).toEqual([6, 7]);
    expect(page({ after: 5, before: 20, limit: 2 }).more).toBe(true);
    expect(page({ after: 9, before: 10 }).msgs).toEqual([]);
  });

  test("a page stops at maxBytes but never short of one message", () => {
    const size = msgBytes(msg(1));
    expect(seqs(page({ after: 0, maxBytes: size * 3 }).msgs)).toEqual([1, 2, 3]);
    expect(seqs(page({ after: 0, maxBytes: 1 }).msgs)).toEqual([1]);
    expect(seqs(page({ maxBytes: 1 }).msgs)).toEqual([30]);
    expect(page({ maxBytes: 1 }).more).toBe(true);
  });

  test("pruned history: after below the oldest kept starts at the oldest kept, and says older ones existed", () => {
    const pruned = filled(150, 100);
    const first = pruned.page({ after: 0, limit: 2, maxBytes: BIG });
    expect(seqs(first.msgs)).toEqual([51, 52]);
    expect(first.reachesPast).toBe(true);
    const back = pruned.page({ before: 53, limit: 10, maxBytes: BIG });
    expect(seqs(back.msgs)).toEqual([51, 52]);
    expect(back.more).toBe(false);
    expect(back.reachesPast).toBe(true);
    expect(pruned.page({ before: 40, limit: 10, maxBytes: BIG })).toEqual({ msgs: [], more: false, reachesPast: true });
  });
});

describe("RoomHistory storage", () => {
  test("long runs of retention keep exactly the last capacity messages, in order", () => {
    const h = filled(1037, 100);
    expect(h.size).toBe(100);
    expect(h.firstSeq).toBe(938);
    expect(seqs(h.last(3))).toEqual([1035, 1036, 1037]);
    expect(seqs(h.after(1034))).toEqual([1035, 1036, 1037]);
    expect(seqs(h.page({ before: 940, limit: 10, maxBytes: BIG }).msgs)).toEqual([938, 939]);
    expect(h.bytes).toBe(h.last(100).reduce((sum, m) => sum + msgBytes(m), 0));
  });
});

describe("history memory budget", () => {
  test("evicts the least recently active room's oldest messages first and keeps the total within the limit", () => {
    let limit = 0;
    const budget = new HistoryBudget(() => limit);
    const size = msgBytes(msg(1, "x".repeat(100)));
    limit = size * 10;
    const a = new RoomHistory(100);
    const b = new RoomHistory(100);
    a.useBudget(budget);
    b.useBudget(budget);
    for (let seq = 1; seq <= 6; seq++) a.push(msg(seq, "x".repeat(100)));
    for (let seq = 1; seq <= 6; seq++) b.push(msg(seq, "x".repeat(100)));
    expect(budget.bytes).toBe(size * 10);
    expect(a.size).toBe(4); // a was the least recently active: its two oldest went
    expect(a.firstSeq).toBe(3);
    expect(b.size).toBe(6);
    a.push(msg(7, "x".repeat(100))); // now b is the older: it gives way
    expect(b.firstSeq).toBe(2);
    expect(budget.bytes).toBeLessThanOrEqual(limit);
    expect(budget.evicted).toBe(3);
  });

  test("retention, a capacity change and a forgotten room give their bytes back", () => {
    const budget = new HistoryBudget(() => BIG);
    const h = new RoomHistory(5);
    h.useBudget(budget);
    for (let seq = 1; seq <= 8; seq++) h.push(msg(seq));
    expect(h.size).toBe(5);
    expect(budget.bytes).toBe(h.bytes);
    h.capacity = 2;
    h.push(msg(9));
    expect(seqs(h.last(10))).toEqual([8, 9]);
    expect(budget.bytes).toBe(h.bytes);
    h.clear();
    expect(budget.bytes).toBe(0);
    expect(budget.rooms).toBe(0);
    h.push(msg(10));
    expect(h.firstSeq).toBe(10);
  });

  test("a room emptied by the budget still knows its next seq", () => {
    const budget = new HistoryBudget(() => 0);
    const h = new RoomHistory(5);
    h.useBudget(budget);
    h.push(msg(1));
    h.push(msg(2));
    expect(h.size).toBe(0);
    expect(h.firstSeq).toBe(3);
    expect(h.page({ after: 0, limit: 10, maxBytes: BIG })).toEqual({ msgs: [], more: false, reachesPast: true });
  });
});

describe("snapshots and answers", () => {
  const settings = { snapshot_bytes: 256 * 1024, max_pending: 1024 * 1024, history_on_join: 20 };

  test("a page is capped at snapshot_bytes and at half of max_pending", () => {
    expect(pageByteCap(settings)).toBe(256 * 1024);
    expect(pageByteCap({ ...settings, max_pending: 100_000 })).toBe(50_000);
  });

  test("a resume covering 100 messages of 16,000 bytes gets what fits in snapshot_bytes, and more", () => {
    const h = filled(100, 100, () => "😀".repeat(4000));
    const snap = snapshotHistory(h, 0, settings, null);
    expect(snap.more).toBe(true);
    expect(snap.history[0].seq).toBe(1);
    const bytes = snap.history.reduce((sum, m) => sum + msgBytes(m), 0);
    expect(bytes).toBeLessThanOrEqual(256 * 1024);
    expect(snap.history.length).toBe(16);
    expect(snapshotHistory(h, 95, settings, null)).toMatchObject({ more: false });
    // Without since: the newest that fit, and nothing follows.
    const plain = snapshotHistory(h, undefined, settings, null);
    expect(plain.more).toBe(false);
    expect(plain.history.at(-1)!.seq).toBe(100);
  });

  test("when memory does not reach back to since, a source that answers at once fills the snapshot", () => {
    const h = filled(150, 100);
    const asked: unknown[] = [];
    const atOnce = {
      room: "r",
      source: {
        page: (_room: string, query: unknown) => {
          asked.push(query);
          return { msgs: [msg(11), msg(12)], more: true };
        },
      },
    };
    expect(snapshotHistory(h, 10, settings, atOnce)).toEqual({ history: [msg(11), msg(12)], more: true });
    expect(asked).toMatchObject([{ after: 10 }]);
  });

  test("when memory does not reach back to since and the source answers later, the snapshot defers everything to paging", () => {
    const h = filled(150, 100);
    expect(snapshotHistory(h, 10, settings, LATER_SOURCE)).toEqual({ history: [], more: true });
    expect(snapshotHistory(h, 10, settings, null).history[0].seq).toBe(51);
    expect(snapshotHistory(h, 60, settings, LATER_SOURCE).history[0].seq).toBe(61);
  });

  test("a room restored at seq N with nothing in memory sends every page below N+1 to the source", () => {
    const h = new RoomHistory(100);
    h.startAt(40);
    expect(h.firstSeq).toBe(41);
    expect(h.page({ after: 10, limit: 5, maxBytes: BIG })).toEqual({ msgs: [], more: false, reachesPast: true });
    expect(h.page({ limit: 5, maxBytes: BIG })).toEqual({ msgs: [], more: false, reachesPast: true });
    expect(snapshotHistory(h, 10, settings, LATER_SOURCE)).toEqual({ history: [], more: true });
    h.push(msg(41));
    expect(seqs(h.page({ after: 40, limit: 5, maxBytes: BIG }).msgs)).toEqual([41]);
    expect(h.page({ limit: 5, maxBytes: BIG }).reachesPast).toBe(true);
    expect(h.page({ limit: 1, maxBytes: BIG }).reachesPast).toBe(false);
  });

  test("pages memory no longer holds come from the source, at once or later", async () => {
    const h = filled(150, 100);
    const room = { name: "r", epoch: "e1", seq: 150, history: h };
    const asked: unknown[] = [];
    const got: ServerFrame[] = [];
    const source = {
      page: (name: string, query: unknown) => {
        asked.push([name, query]);
        return { msgs: [msg(11), msg(12)], more: true };
      },
    };
    answerHistory(room, { after: 10, limit: 2 }, settings, source, (f) => got.push(f));
    answerHistory(room, { after: 100, limit: 2 }, settings, source, (f) => got.push(f));
    expect(asked).toEqual([["r", { after: 10, limit: 2, maxBytes: 256 * 1024 }]]);
    expect(got).toEqual([
      { type: "history", room: "r", epoch: "e1", seq: 150, msgs: [msg(11), msg(12)], more: true },
      { type: "history", room: "r", epoch: "e1", seq: 150, msgs: [msg(101), msg(102)], more: true },
    ]);
    const later: ServerFrame[] = [];
    const slow = { page: () => Promise.resolve({ msgs: [msg(3)], more: false }) };
    answerHistory(room, { before: 4 }, settings, slow, (f) => later.push(f));
    expect(later).toEqual([]);
    await Promise.resolve();
    await Promise.resolve();
    expect(later).toMatchObject([{ type: "history", msgs: [{ seq: 3 }], more: false }]);
    const failing = { page: () => Promise.reject(new Error("disk")) };
    const fallback: ServerFrame[] = [];
    answerHistory(room, { after: 0, limit: 1 }, settings, failing, (f) => fallback.push(f));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(fallback).toMatchObject([{ type: "history", msgs: [{ seq: 51 }] }]);
  });
});
