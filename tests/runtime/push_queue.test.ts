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

  test("pipe hands buffered items first, then each push at once and in order, resumes a paused source, and resolves at the end", async () => {
    const events: string[] = [];
    const got: number[] = [];
    const queue = new PushQueue<number>({
      highWaterMark: 2,
      source: { pause: () => void events.push("pause"), resume: () => void events.push("resume") },
    });
    queue.push(1);
    queue.push(2);
    let ended = false;
    const piped = queue.pipe({ inputClosed: false, onChunk: (item) => got.push(item) }).then((value) => (ended = value));
    expect(got).toEqual([1, 2]);
    expect(events).toEqual(["pause", "resume"]);
    queue.push(3);
    expect(got).toEqual([1, 2, 3]); // synchronously, no promise in between
    queue.push(4);
    queue.push(5);
    expect(events).toEqual(["pause", "resume"]); // nothing is buffered, so never paused again
    await Promise.resolve();
    expect(ended).toBe(false);
    queue.end();
    await piped;
    expect(ended).toBe(true);
    expect(got).toEqual([1, 2, 3, 4, 5]);
  });

  test("a piped sink that closes its input or throws stops the queue: later items are dropped, the pipe resolves", async () => {
    for (const stop of ["close", "throw"] as const) {
      const dropped: number[] = [];
      const got: number[] = [];
      const queue = new PushQueue<number>({ drop: (item) => dropped.push(item) });
      const sink = {
        inputClosed: false,
        onChunk(item: number) {
          if (item === 2 && stop === "throw") throw new Error("consumer failed");
          got.push(item);
          if (item === 2) this.inputClosed = true;
        },
      };
      const piped = queue.pipe(sink);
      queue.push(1);
      queue.push(2);
      queue.push(3);
      queue.push(4);
      expect(await piped).toBe(true);
      expect(got).toEqual(stop === "close" ? [1, 2] : [1]);
      expect(dropped).toEqual(stop === "close" ? [3, 4] : [2, 3, 4]);
      expect(queue.ended).toBe(true);
    }
  });
});
