import { describe, expect, test } from "bun:test";
import type { BenchClient } from "../../lib/bench/bench_client.ts";
import { every, pollTimers, sleep } from "../../lib/bench/phases.ts";
import { PublishFrames } from "../../lib/bench/publish_frames.ts";
import { type PublishPace, RoomLoad } from "../../lib/bench/room_load.ts";

interface FakeSub {
  closedByPeer: boolean;
  counter: { msgs: number };
}

/** A room with fake connections: publishers' writes are recorded, subscribers' counts set by the test. */
function fakeRoom(pace: PublishPace, subCount: number, pubCount = 1) {
  const room = new RoomLoad(pace);
  const subs: FakeSub[] = Array.from({ length: subCount }, () => ({ closedByPeer: false, counter: { msgs: 0 } }));
  room.subscribers.push(...(subs as unknown as BenchClient[]));
  const frames = new PublishFrames("r", 20, pace.batch);
  const writes: number[] = [];
  for (let p = 0; p < pubCount; p++) {
    const client = {
      write: (bytes: Uint8Array) => {
        writes.push(bytes.length / frames.frameBytes);
        return Promise.resolve();
      },
    };
    room.addPublisher(client as unknown as BenchClient, new PublishFrames("r", 20, pace.batch));
  }
  /** Subscriber `i` receives `n` more messages. */
  const deliver = (i: number, n: number) => {
    const before = subs[i]!.counter.msgs;
    subs[i]!.counter.msgs += n;
    room.onProgress(before, subs[i]!.counter.msgs);
  };
  return { room, subs, writes, deliver };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("RoomLoad (window mode)", () => {
  test("fills the window in batches, then sends only as the slowest subscriber catches up", async () => {
    const pace: PublishPace = { running: true, ratePerPub: 0, window: 100, batch: 16 };
    const { room, writes, deliver } = fakeRoom(pace, 3);
    room.recount();
    room.wake();
    await settle();
    // Whole batches only: the last 4 of the window wait for a whole batch's room.
    expect(writes).toEqual([16, 16, 16, 16, 16, 16]);
    deliver(0, 50);
    deliver(1, 50);
    await settle();
    expect(room.sent).toBe(96); // subscriber 2 has not moved
    deliver(2, 40);
    await settle();
    expect(room.sent).toBe(128);
    expect(room.inFlight()).toBe(88);
  });

  test("with several publishers the window is shared, and a subscriber the server closed no longer holds it", async () => {
    const pace: PublishPace = { running: true, ratePerPub: 0, window: 64, batch: 16 };
    const { room, subs, writes, deliver } = fakeRoom(pace, 2, 3);
    room.recount();
    room.wake();
    await settle();
    expect(room.sent).toBe(64);
    expect(room.publishers.map((p) => p.sent).reduce((a, b) => a + b)).toBe(64);
    expect(room.publishers.every((p) => p.sent > 0)).toBe(true);
    subs[1]!.closedByPeer = true;
    deliver(0, 64);
    await settle();
    room.recount();
    room.wake();
    await settle();
    expect(room.sent).toBe(128);
    expect(writes.every((n) => n === 16)).toBe(true);
  });

  test("nothing is sent while publishing is off", async () => {
    const pace: PublishPace = { running: false, ratePerPub: 0, window: 10, batch: 5 };
    const { room, writes } = fakeRoom(pace, 1);
    room.recount();
    room.wake();
    await settle();
    expect(writes).toEqual([]);
  });
});

describe("RoomLoad (rate mode)", () => {
  test("each publisher sends what is due, in one write per tick", () => {
    const pace: PublishPace = { running: true, ratePerPub: 1000, window: 10, batch: 64 };
    const { room, writes } = fakeRoom(pace, 1, 2);
    room.keepRate(10.5);
    expect(writes).toEqual([10, 10]);
    room.keepRate(10.9); // nothing new is due
    expect(room.sent).toBe(20);
  });
});

describe("phases", () => {
  test("a due timer fires from pollTimers even while the runtime's timers cannot run", async () => {
    let fired = 0;
    const stop = every(5, () => void fired++);
    const started = performance.now();
    // A busy loop: no runtime timer can run. It ends once the timer fired 4 times (or after 2 s), so a
    // test process descheduled by a loaded machine waits longer instead of failing.
    while (fired < 4 && performance.now() - started < 2000) pollTimers();
    const elapsed = performance.now() - started;
    stop();
    expect(fired).toBeGreaterThanOrEqual(4);
    // Never early: the 4th firing is due 20 ms after the start.
    expect(elapsed).toBeGreaterThanOrEqual(19);
  });

  test("sleep ends at once when aborted", async () => {
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(), 5);
    await sleep(10_000, controller.signal);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
