/**
 * Coalesces writes: however many frames a connection gets while the current
 * batch of input is handled, it gets one socket write, made once the batch is
 * done. Writes to many sockets are only fast this way.
 *
 * @module
 */

import type { BatchCache } from "./outbound_queue.ts";

/** Something with queued output. */
export interface Flushable {
  /** Set by the scheduler while the connection waits in its list. */
  flushPending: boolean;
  /** Set by the scheduler while the connection waits for the end of the event-loop turn. */
  laterPending?: boolean;
  /** Hands queued bytes to the socket (at most one write in flight), sharing joined batches through `cache`. */
  flush(cache?: BatchCache): void;
}

/** Runs each marked connection's flush once, after the current task. */
export class WriteScheduler {
  #pending: Flushable[] = [];
  #scheduled = false;
  readonly #run = () => this.runNow();

  /** Marks `target` to be flushed after the current task. */
  mark(target: Flushable): void {
    if (!target.flushPending) {
      target.flushPending = true;
      this.#pending.push(target);
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#run);
    }
  }

  #later: Flushable[] = [];
  readonly #runLater = () => {
    const later = this.#later;
    this.#later = [];
    const cache: BatchCache = { chunks: null, joined: null };
    for (const target of later) {
      target.laterPending = false;
      target.flush(cache);
    }
  };

  /**
   * Marks `target` to be flushed at the end of the event-loop turn (after I/O
   * callbacks): for transports where a write per message is dear and the
   * runtime calls back once per message (WebSocket), so everything a turn
   * brings goes out in one write.
   */
  markLater(target: Flushable): void {
    if (target.laterPending || target.flushPending) return;
    target.laterPending = true;
    if (this.#later.length === 0) setImmediate(this.#runLater);
    this.#later.push(target);
  }

  /** Flushes everything marked so far. */
  runNow(): void {
    this.#scheduled = false;
    const pending = this.#pending;
    this.#pending = [];
    const cache: BatchCache = { chunks: null, joined: null };
    for (const target of pending) {
      target.flushPending = false;
      target.flush(cache);
    }
  }
}
