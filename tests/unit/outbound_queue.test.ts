/** The outbound queue joins a turn's frames into one write, shares equal batches, and reuses its lists safely. */
import { describe, expect, test } from "bun:test";
import { type BatchCache, endBatch, OutboundQueue } from "../../lib/server/outbound_queue.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array | null) => (data === null ? null : new TextDecoder().decode(data));

describe("OutboundQueue", () => {
  test("members with the same frames share one joined buffer; the others get their own, all in order", () => {
    const a = bytes("a\n"), b = bytes("b\n"), c = bytes("c\n");
    const cache: BatchCache = { chunks: null, joined: null };
    const queues = [new OutboundQueue(), new OutboundQueue(), new OutboundQueue()];
    for (const q of queues.slice(0, 2)) [a, b, c].forEach((f) => q.push(f));
    [a, c].forEach((f) => queues[2]!.push(f));
    const first = queues[0]!.take(cache);
    const second = queues[1]!.take(cache);
    const third = queues[2]!.take(cache);
    expect(second).toBe(first!);
    expect([text(first), text(third)]).toEqual(["a\nb\nc\n", "a\nc\n"]);
    expect(queues.map((q) => q.bytes)).toEqual([0, 0, 0]);
    endBatch(cache);
    expect(cache).toEqual({ chunks: null, joined: null });
  });

  test("lists reused over many turns never mix one queue's frames with another's", () => {
    const cache: BatchCache = { chunks: null, joined: null };
    const queues = Array.from({ length: 5 }, () => new OutboundQueue());
    for (let turn = 0; turn < 50; turn++) {
      const expected: string[] = [];
      // Every third turn is a broadcast: the very same frame objects in every queue.
      const shared = Array.from({ length: 4 }, (_, k) => bytes(`shared${turn}-${k}\n`));
      queues.forEach((q, i) => {
        let want = "";
        // Different lengths and contents per queue and turn, some shared, some cleared.
        for (let k = 0; k < ((turn + i) % 4) + 1; k++) {
          const frame = turn % 3 === 0 ? shared[k]! : bytes(`q${i}-${turn}-${k}\n`);
          q.push(frame);
          want += text(frame);
        }
        if ((turn + i) % 7 === 0) {
          q.clear();
          want = "";
        }
        expected.push(want);
      });
      const got = queues.map((q) => text(q.take(cache)) ?? "");
      endBatch(cache);
      expect(got).toEqual(expected);
    }
  });
});
