import { describe, expect, test } from "bun:test";
import { AppendBatches, MAX_BATCH } from "../../lib/cluster/append_batches.ts";

/** A fake Redis: each call takes the next seqs for its room; `fail` makes the next calls fail. */
function setup() {
  const calls: { room: string; bodies: string[] }[] = [];
  const seqs = new Map<string, number>();
  let failing = false;
  const batches = new AppendBatches((room, bodies) => {
    calls.push({ room, bodies });
    if (failing) return Promise.reject(new Error("unreachable"));
    const first = (seqs.get(room) ?? 0) + 1;
    seqs.set(room, first + bodies.length - 1);
    return Promise.resolve(first);
  });
  return { batches, calls, fail: (v: boolean) => (failing = v) };
}

const settled = (ps: Promise<number>[]) => Promise.allSettled(ps);

describe("AppendBatches", () => {
  test("messages of one room in one turn go in one call and get consecutive seqs in arrival order", async () => {
    const { batches, calls } = setup();
    const seqs = ["a", "b", "c"].map((b) => batches.add("r", b));
    expect(calls).toEqual([]); // nothing leaves before the end of the turn
    expect(await Promise.all(seqs)).toEqual([1, 2, 3]);
    expect(calls).toEqual([{ room: "r", bodies: ["a", "b", "c"] }]);
    expect(await batches.add("r", "d")).toBe(4);
    expect(calls.length).toBe(2);
  });

  test("each room has its own batch", async () => {
    const { batches, calls } = setup();
    const r = batches.add("r", "a");
    const s = batches.add("s", "b");
    const r2 = batches.add("r", "c");
    expect(await Promise.all([r, s, r2])).toEqual([1, 1, 2]);
    expect(calls).toEqual([{ room: "r", bodies: ["a", "c"] }, { room: "s", bodies: ["b"] }]);
  });

  test("a flush (another command about to leave) sends what waits first, keeping the order", async () => {
    const { batches, calls } = setup();
    const a = batches.add("r", "a");
    batches.flush();
    expect(calls).toEqual([{ room: "r", bodies: ["a"] }]);
    const b = batches.add("r", "b");
    expect(await Promise.all([a, b])).toEqual([1, 2]);
    expect(calls.length).toBe(2);
  });

  test("a full batch leaves at once and the rest follows in the next call", async () => {
    const { batches, calls } = setup();
    const all = Array.from({ length: MAX_BATCH + 2 }, (_, i) => batches.add("r", `m${i}`));
    expect(calls.length).toBe(1);
    expect(await Promise.all(all)).toEqual(Array.from({ length: MAX_BATCH + 2 }, (_, i) => i + 1));
    expect(calls.map((c) => c.bodies.length)).toEqual([MAX_BATCH, 2]);
  });

  test("a failed call refuses every message in it, never acks one; the next batch carries on", async () => {
    const { batches, fail } = setup();
    fail(true);
    const lost = await settled(["a", "b"].map((b) => batches.add("r", b)));
    expect(lost.map((s) => s.status)).toEqual(["rejected", "rejected"]);
    fail(false);
    expect(await Promise.all([batches.add("r", "c"), batches.add("r", "d")])).toEqual([1, 2]);
  });

  test("a send that throws at once refuses its messages too", async () => {
    const batches = new AppendBatches(() => {
      throw new Error("down");
    });
    const lost = await settled([batches.add("r", "a")]);
    expect(lost[0].status).toBe("rejected");
  });
});
