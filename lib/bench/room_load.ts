/**
 * One room's publishers and subscribers, and the flow control that keeps a
 * fan-out run bounded: in window mode a room never has more than `window`
 * messages sent but not yet received by its slowest subscriber; in rate mode
 * each publisher sends what is due at its fixed rate. The slowest
 * subscriber is tracked incrementally (recounted only when every subscriber
 * has moved past it), so a received chunk costs O(1) however many
 * subscribers a room has.
 *
 * @module
 */

import type { BenchClient } from "./bench_client.ts";
import type { PublishFrames } from "./publish_frames.ts";
import { nowMicros } from "./stamp.ts";

/** How a run publishes, shared by its rooms; `running` turns publishing on and off. */
export interface PublishPace {
  running: boolean;
  /** Messages per second per publisher; 0: window mode. */
  ratePerPub: number;
  window: number;
  batch: number;
}

/** One publishing connection and its reusable send buffer; at most one write in flight. */
export class Publisher {
  /** Messages sent. */
  sent = 0;
  /** A write has not completed yet (its buffer is still in use). */
  writing = false;
  /** A write failed: the connection is gone. */
  broken = false;
  readonly #written: () => void;
  readonly #failed: () => void;

  /** `wake` is called when a write completes and the publisher may send again. */
  constructor(readonly client: BenchClient, readonly frames: PublishFrames, wake: () => void) {
    this.#written = () => {
      this.writing = false;
      wake();
    };
    this.#failed = () => {
      this.writing = false;
      this.broken = true;
    };
  }

  /** Whether it can send now. */
  get ready(): boolean {
    return !this.writing && !this.broken;
  }

  /** Sends up to `count` messages (at most the buffer's capacity) in one write; returns how many. */
  send(count: number): number {
    const n = Math.min(count, this.frames.capacity);
    this.writing = true;
    this.client.write(this.frames.take(n, nowMicros())).then(this.#written, this.#failed);
    this.sent += n;
    return n;
  }
}

/**
 * A room under load.
 *
 * @example
 * ```ts
 * const room = new RoomLoad(pace);
 * room.subscribers.push(...subs);
 * room.addPublisher(client, new PublishFrames(name, 100, 64));
 * pace.running = true;
 * room.recount();
 * room.wake(); // window mode: sends, then keeps sending as subscribers catch up
 * ```
 */
export class RoomLoad {
  /** Messages sent by the room's publishers. */
  sent = 0;
  /** The room's publishers, added with {@linkcode addPublisher}. */
  readonly publishers: Publisher[] = [];
  /** The room's subscribers (pushed by the run before publishing starts). */
  readonly subscribers: BenchClient[] = [];
  readonly #pace: PublishPace;
  /** Fewest messages a connected subscriber had at the last recount, and how many had exactly that and have not moved since. */
  #least = 0;
  #atLeast = 0;
  #next = 0;
  #scheduled = false;

  /** `pace` is shared by every room of the run. */
  constructor(pace: PublishPace) {
    this.#pace = pace;
  }

  /** Adds a publisher sending from `frames`. */
  addPublisher(client: BenchClient, frames: PublishFrames): void {
    this.publishers.push(new Publisher(client, frames, this.wake));
  }

  /** A subscriber's count went from `before` to `after`; may open the window. */
  onProgress(before: number, after: number): void {
    if (after > before && before === this.#least && --this.#atLeast <= 0) {
      this.recount();
      this.wake();
    }
  }

  /** Finds the slowest connected subscriber again (this also drops subscribers the server closed). */
  recount(): void {
    let least = Infinity;
    let atLeast = 0;
    for (const sub of this.subscribers) {
      if (sub.closedByPeer) continue;
      const msgs = sub.counter.msgs;
      if (msgs < least) {
        least = msgs;
        atLeast = 1;
      } else if (msgs === least) {
        atLeast++;
      }
    }
    this.#least = least;
    this.#atLeast = atLeast;
  }

  /** Sent minus received by the slowest connected subscriber at the last recount; Infinity when none is connected. */
  inFlight(): number {
    return this.#least === Infinity ? Infinity : this.sent - this.#least;
  }

  /** Window mode: schedules one fill of the window (in a microtask, so one burst of wakes costs one fill). */
  readonly wake = (): void => {
    if (this.#scheduled || !this.#pace.running || this.#pace.ratePerPub > 0) return;
    this.#scheduled = true;
    queueMicrotask(this.#fill);
  };

  readonly #fill = (): void => {
    this.#scheduled = false;
    if (!this.#pace.running) return;
    const { window, batch } = this.#pace;
    let room = window - this.inFlight();
    const least = Math.min(batch, window);
    const count = this.publishers.length;
    const first = this.#next++ % count;
    for (let i = 0; i < count && room >= least; i++) {
      const publisher = this.publishers[(first + i) % count]!;
      if (!publisher.ready) continue;
      const n = publisher.send(Math.min(room, batch));
      this.sent += n;
      room -= n;
    }
  };

  /** Rate mode: each ready publisher sends what is due `elapsedMs` into publishing. */
  keepRate(elapsedMs: number): void {
    const due = Math.floor((elapsedMs * this.#pace.ratePerPub) / 1000);
    for (const publisher of this.publishers) {
      if (publisher.ready && due > publisher.sent) this.sent += publisher.send(due - publisher.sent);
    }
  }
}
