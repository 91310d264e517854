import { describe, expect, test } from "bun:test";
import type { MsgFrame } from "../../lib/protocol/server_frames.ts";
import { batchPayload, type RelayedMsg, storedBody } from "../../lib/cluster/redis_room_log.ts";
import { FILL_PAGE, RoomFeeds } from "../../lib/cluster/room_feeds.ts";

const msg = (seq: number): RelayedMsg => ({ msg: { type: "msg", room: "r", from: "a", text: `t${seq}`, seq, ts: 0 }, origin: undefined });

/** A hub that records deliveries with the same rules as the real one, and a stream holding seqs 1..`streamTop` (from `streamFrom`). */
function setup(streamTop: number, streamFrom = 1) {
  let seq = 0;
  const delivered: number[] = [];
  const target = {
    deliver(m: MsgFrame, _origin: string | undefined, force = false) {
      if (m.seq <= seq) return "old" as const;
      if (m.seq !== seq + 1 && !force) return "gap" as const;
      seq = m.seq;
      delivered.push(m.seq);
      return "delivered" as const;
    },
    roomSeq: () => seq,
  };
  const reads: number[] = [];
  let failing = false;
  const feeds = new RoomFeeds(target, async (_room, after, limit) => {
    reads.push(after);
    await Promise.resolve();
    if (failing) throw new Error("down");
    const out: RelayedMsg[] = [];
    for (let s = Math.max(after + 1, streamFrom); s <= streamTop && out.length < limit; s++) out.push(msg(s));
    return out;
  }, () => {});
  return { feeds, delivered, reads, fail: (v: boolean) => (failing = v) };
}

describe("RoomFeeds", () => {
  test("channel messages in order are delivered at once, without reading the stream", () => {
    const { feeds, delivered, reads } = setup(3);
    for (const s of [1, 2, 3]) feeds.fromChannel(msg(s));
    expect(delivered).toEqual([1, 2, 3]);
    expect(reads).toEqual([]);
  });

  test("a gap on the channel is filled from the stream, and what arrives meanwhile follows in order, once", async () => {
    const { feeds, delivered } = setup(6);
    feeds.fromChannel(msg(1));
    feeds.fromChannel(msg(4));
    feeds.fromChannel(msg(5));
    feeds.fromChannel(msg(6));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(delivered).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test("the sender's own answer goes out only when it is the next seq; a duplicate from the channel is dropped", () => {
    const { feeds, delivered } = setup(2);
    feeds.fromReply(msg(2));
    expect(delivered).toEqual([]);
    feeds.fromChannel(msg(1));
    feeds.fromChannel(msg(2));
    feeds.fromReply(msg(3));
    feeds.fromChannel(msg(3));
    expect(delivered).toEqual([1, 2, 3]);
  });

  test("catching up reads the stream in pages to its end", async () => {
    const { feeds, delivered, reads } = setup(FILL_PAGE * 2 + 5);
    await feeds.catchUp("r");
    expect(delivered.length).toBe(FILL_PAGE * 2 + 5);
    expect(reads).toEqual([0, FILL_PAGE, FILL_PAGE * 2]);
  });

  test("messages the stream no longer keeps are skipped, not waited for", async () => {
    const { feeds, delivered } = setup(10, 8);
    await feeds.catchUp("r");
    expect(delivered).toEqual([8, 9, 10]);
  });

  test("a failed read leaves the gap for the next catch-up: nothing is skipped", async () => {
    const { feeds, delivered, fail } = setup(5);
    feeds.fromChannel(msg(1));
    fail(true);
    feeds.fromChannel(msg(4));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(delivered).toEqual([1]);
    fail(false);
    await feeds.catchUp("r");
    expect(delivered).toEqual([1, 2, 3, 4, 5]);
  });

  test("a batch payload is delivered in order; a node's own batch, delivered from the script's answer, is dropped", () => {
    const { feeds, delivered } = setup(6);
    expect(feeds.fromPayload("r", batch(1, 3))).toBe(3);
    for (const s of [4, 5]) feeds.fromReply(msg(s));
    expect(feeds.fromPayload("r", batch(4, 2))).toBe(2);
    expect(delivered).toEqual([1, 2, 3, 4, 5]);
    expect(feeds.fromPayload("r", "e{}")).toBe(-1);
  });

  test("a batch straddling a Redis cut: what was delivered is not again, the gap is read from the stream, each seq once and in order", async () => {
    const { feeds, delivered } = setup(9);
    feeds.fromPayload("r", batch(1, 2));
    // The channel copy of 3..4 was lost in the cut; 3 came back in the script's answer before it.
    feeds.fromReply(msg(3));
    // After the cut: a batch overlapping what was delivered and beyond what the channel brought.
    feeds.fromPayload("r", batch(3, 4));
    feeds.fromPayload("r", batch(8, 2));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(delivered).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test("a batch that arrives while the stream is being read waits, and follows it without duplicates", async () => {
    const { feeds, delivered } = setup(6);
    const reading = feeds.catchUp("r");
    feeds.fromPayload("r", batch(4, 3));
    await reading;
    expect(delivered).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

/** The channel payload of seqs first..first+count-1, as the append script publishes it. */
function batch(first: number, count: number): string {
  return batchPayload(first, Array.from({ length: count }, (_, i) => storedBody("a", `t${first + i}`, 0)));
}
