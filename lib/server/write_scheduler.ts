/**
 * Coalesces writes: however many frames a connection gets while the current
 * batch of input is handled, it gets one socket write, made once the batch is
 * done. Writes to many sockets are only fast this way.
 *
 * @module
 */

import { type BatchCache, endBatch } from "./outbound_queue.ts";

/** Something with queued output. */
export interface Flushable {
  /** Set by the scheduler while the connection waits in its list. */
  flushPending: boolean;
  /** Set by the scheduler while the connection waits for the end of the event-loop turn. */
  laterPending?: boolean;
  /** Hands queued bytes to the socket (at most one write in flight), sharing joined batches through `cache`. */
  flush(cache?: BatchCache): void;
}

/** How long output stays held before the next try when the store cannot commit. */
const HOLD_RETRY_MS = 200;

/** Runs each marked connection's flush once, after the current task. */
export class WriteScheduler {
  #pending: Flushable[] = [];
  /**
   * The list of the previous run, emptied, for the next one: a fresh array
   * per turn would grow again to the number of connections written to
   * (issue 15). Null while a run is using it.
   */
  #spare: Flushable[] | null = [];
  /** Reset at each run rather than made anew. */
  readonly #cache: BatchCache = { chunks: null, joined: null };
  #scheduled = false;
  #holding = false;
  readonly #run = () => this.runNow();
  /**
   * Runs before any connection is flushed; false holds all output and tries
   * again shortly. The server commits the store's open batch here, so no byte
   * of a message leaves the process before the transaction holding it has
   * committed (and one commit serves the whole batch).
   */
  beforeFlush: (() => boolean) | null = null;
  /**
   * Runs first in every pass: output still held back for batching (an open
   * fan-out run, `fanout_run.ts`) is queued here, so it leaves in this pass.
   */
  beforeRun: (() => void) | null = null;

  /** Marks `target` to be flushed after the current task. */
  mark(target: Flushable): void {
    if (!target.flushPending) {
      target.flushPending = true;
      this.#pending.push(target);
    }
    this.wake();
  }

  /** Asks for a pass after the current task without marking anyone (`beforeRun` will queue something). */
  wake(): void {
    if (!this.#scheduled && !this.#holding) {
      this.#scheduled = true;
      queueMicrotask(this.#run);
    }
  }

  #later: Flushable[] = [];
  readonly #runLater = () => {
    const later = this.#later;
    this.#later = [];
    for (const target of later) {
      target.laterPending = false;
      if (!target.flushPending) {
        target.flushPending = true;
        this.#pending.push(target);
      }
    }
    // Through runNow, so beforeFlush commits the store first; while output is held, the retry flushes them.
    if (!this.#holding) this.runNow();
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
    // Before clearing #scheduled: what it queues marks connections without asking for another pass.
    this.beforeRun?.();
    this.#scheduled = false;
    if (this.beforeFlush !== null && !this.beforeFlush()) {
      if (!this.#holding) {
        this.#holding = true;
        setTimeout(() => {
          this.#holding = false;
          this.runNow();
        }, HOLD_RETRY_MS);
      }
      return;
    }
    const pending = this.#pending;
    this.#pending = this.#spare ?? [];
    this.#spare = null;
    const cache = this.#cache;
    cache.chunks = null;
    cache.joined = null;
    for (let i = 0; i < pending.length; i++) {
      const target = pending[i]!;
      target.flushPending = false;
      target.flush(cache);
    }
    // Nothing of this run stays reachable from here (the cache's list goes back to the spares).
    endBatch(cache);
    pending.length = 0;
    this.#spare = pending;
  }
}
