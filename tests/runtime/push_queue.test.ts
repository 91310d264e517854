/** Behaviour of the push-to-pull queue behind the Bun and Node adapters' `readable` and listeners. */

import { describe, expect, test } from "bun:test";
import { PushQueue } from "../../lib/runtime/_push_queue.ts";

function byteQueue(highWaterMark: number, events: string[]) {
  return new PushQueue<Uint8Array>({
    sizeOf: (chunk) => chunk.byteLength,
    highWaterMark,
    source: { pause: () => void events.push("pause"), resume: () => void events.push("resume") },
  });
}

describe("PushQueue", () => {
  test("a waiting consumer gets a pushed item directly, without pausing the source", async () => {
    const events: string[] = [];
    const queue = byteQueue(4, events);
    const next = queue.next();
    queue.push(new Uint8Array(10));
    expect((await next).value?.byteLength).toBe(10);
    expect(events).toEqual([]);
  });

  test("the source is paused at the high-water mark and resumed only once the buffer is empty", async () => {
    const events: string[] = [];
    const queue = byteQueue(4, events);
    queue.push(new Uint8Array(2));
    expect(events).toEqual([]);
    queue.push(new Uint8Array(2));
    expect(events).toEqual(["pause"]);
    queue.push(new Uint8Array(1)); // Already paused: no second pause.
    await queue.next();
    await queue.next();
    expect(events).toEqual(["pause"]);
    await queue.next();
    expect(events).toEqual(["pause", "resume"]);
  });

  test("items pushed before end are delivered in order, then the iteration ends", async () => {
    const queue = new PushQueue<number>();
    queue.push(1);
    queue.push(2);
    queue.end();
    queue.push(3); // After the end: dropped.
    const seen: number[] = [];
    for await (const item of queue) seen.push(item);
    expect(seen).toEqual([1, 2]);
  });

  test("end wakes a waiting consumer", async () => {
    const queue = new PushQueue<number>();
    const next = queue.next();
    queue.end();
    expect((await next).done).toBe(true);
  });

  test("breaking out drops buffered items through drop, resumes the source, and drops later pushes", async () => {
    const dropped: number[] = [];
    const events: string[] = [];
    const queue = new PushQueue<number>({
      highWaterMark: 2,
      source: { pause: () => void events.push("pause"), resume: () => void events.push("resume") },
      drop: (item) => dropped.push(item),
    });
    queue.push(1);
    queue.push(2);
    queue.push(3);
    for await (const item of queue) {
      expect(item).toBe(1);
      break;
    }
    queue.push(4);
    expect(dropped).toEqual([2, 3, 4]);
    expect(events).toEqual(["pause", "resume"]);
    expect((await queue.next()).done).toBe(true);
  });

  test("consume hands buffered items over at once, then each push synchronously, and resolves at the end", async () => {
    const events: string[] = [];
    const queue = byteQueue(2, events);
    queue.push(new Uint8Array(1));
    queue.push(new Uint8Array(2)); // Past the high-water mark: paused.
    const seen: number[] = [];
    let ended = false;
    const done = queue.consume((chunk) => (seen.push(chunk.byteLength), true)).then(() => (ended = true));
    expect(seen).toEqual([1, 2]);
    expect(events).toEqual(["pause", "resume"]);
    queue.push(new Uint8Array(3));
    expect(seen).toEqual([1, 2, 3]); // Inside push, not a microtask later.
    queue.end();
    await done;
    expect(ended).toBe(true);
  });

  test("a consumer that returns false or throws stops: later pushes are dropped and consume resolves", async () => {
    for (const stop of [() => false, () => { throw new Error("handler failed"); }]) {
      const dropped: number[] = [];
      const queue = new PushQueue<number>({ drop: (item) => dropped.push(item) });
      const seen: number[] = [];
      const done = queue.consume((item) => (seen.push(item), item < 2 ? true : stop()));
      queue.push(1);
      queue.push(2);
      queue.push(3);
      await done;
      expect(seen).toEqual([1, 2]);
      expect(dropped).toEqual([3]);
    }
  });
});
