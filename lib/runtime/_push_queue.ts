/**
 * Turns push-style callbacks (Bun's `data`/`open` handlers, Node's `data` and
 * `connection` events) into the pull-style `AsyncIterable` the runtime layer
 * exposes, with pause/resume backpressure. Bun and Node share it; Deno reads
 * by pulling and does not need it.
 *
 * @module
 */

import type { ByteSink } from "./types.ts";

/**
 * `Conn.pipe` over a byte iterable (a {@linkcode PushQueue}, as Bun and Node
 * fill): hands each chunk to `sink` until the iterable ends or the sink
 * closes its input; resolves `true`, never rejects (the connection's
 * `closed` reports an error).
 */
export async function pipeIterable(source: AsyncIterable<Uint8Array>, sink: ByteSink): Promise<true> {
  try {
    for await (const chunk of source) {
      if (sink.inputClosed) break;
      sink.onChunk(chunk);
    }
  } catch {
    // A read error ends the connection; `closed` reports the reason.
  }
  return true;
}

/** Where {@linkcode PushQueue.pipe} hands items: `ByteSink`'s shape, for any item type. */
export interface ItemSink<T> {
  /** One item, in order; handle it synchronously. */
  onChunk(item: T): void;
  /** True once no more items are wanted: the queue ends (checked before each item). */
  readonly inputClosed: boolean;
}

/** Something that can be told to stop and restart pushing, e.g. a socket. */
export interface Pausable {
  pause(): void;
  resume(): void;
}

/** How a {@linkcode PushQueue} measures its items and throttles its source. */
export interface PushQueueOptions<T> {
  /** Size of one item, in whatever unit `highWaterMark` uses. Default: 1. */
  sizeOf?: (item: T) => number;
  /** Buffered size at which the source is paused. Default: 64 KiB worth of `sizeOf`. */
  highWaterMark?: number;
  /**
   * The source to pause and resume. Passed as an object (the socket itself)
   * rather than two closures: one queue lives per connection, and thousands
   * of idle connections should not each carry extra functions.
   */
  source?: Pausable;
  /** Disposes of an item nobody will take (pushed after the end, or left by `return`). */
  drop?: (item: T) => void;
}

/** `sizeOf` for byte chunks, shared by every queue. */
export function byteLength(chunk: Uint8Array): number {
  return chunk.byteLength;
}

/** Default buffered size before the source is paused. */
export const DEFAULT_HIGH_WATER_MARK = 64 * 1024;

const DONE: IteratorResult<never> = { value: undefined, done: true };
const DONE_PROMISE: Promise<IteratorResult<never>> = Promise.resolve(DONE);
const one = () => 1;

/**
 * A single-consumer queue: the source calls {@linkcode PushQueue.push} and
 * {@linkcode PushQueue.end}; the consumer iterates it. When the consumer
 * falls behind by `highWaterMark`, the source is paused until the buffer is
 * empty again, so a fast peer cannot grow this process's memory.
 *
 * @example
 * ```ts
 * const chunks = new PushQueue<Uint8Array>({ sizeOf: byteLength, source: socket });
 * socket.on("data", (c) => chunks.push(c));
 * socket.on("end", () => chunks.end());
 * for await (const chunk of chunks) handle(chunk);
 * ```
 */
export class PushQueue<T> implements AsyncIterableIterator<T> {
  /** Made on the first item that has to wait; most queues hand items straight to a waiting consumer. */
  #items: T[] | null = null;
  #head = 0;
  #size = 0;
  #ended = false;
  #paused = false;
  #waiter: ((result: IteratorResult<T>) => void) | undefined;
  readonly #sizeOf: (item: T) => number;
  readonly #highWaterMark: number;
  readonly #source: Pausable | undefined;
  readonly #drop: ((item: T) => void) | undefined;
  /** Set by `pipe`: items go straight here, and `#piped` resolves at the end. */
  #sink: ItemSink<T> | null = null;
  #piped: ((value: true) => void) | null = null;

  /** Creates an empty, open queue. */
  constructor(options: PushQueueOptions<T> = {}) {
    this.#sizeOf = options.sizeOf ?? one;
    this.#highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    this.#source = options.source;
    this.#drop = options.drop;
  }

  /** True once `end` or `return` was called: later pushes are dropped. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Hands an item to the waiting consumer, or buffers it. Dropped after `end`. */
  push(item: T): void {
    if (this.#ended) {
      this.#drop?.(item);
      return;
    }
    if (this.#sink !== null) return this.#hand(this.#sink, item);
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      // Fast path: the consumer is already waiting, nothing is buffered.
      this.#waiter = undefined;
      waiter({ value: item, done: false });
      return;
    }
    (this.#items ??= []).push(item);
    this.#size += this.#sizeOf(item);
    if (!this.#paused && this.#size >= this.#highWaterMark) {
      this.#paused = true;
      this.#source?.pause();
    }
  }

  /**
   * Hands every item to `sink` as it is pushed, synchronously, instead of
   * being iterated (buffered items first); resolves `true` once the queue
   * ends, the sink closes its input, or the sink throws (which ends the queue
   * as `return` does). Nothing is buffered, so the source is never paused:
   * per connection this needs no async loop, no promise per item and no
   * waiting resolver (issue 15). Use instead of iterating, once.
   */
  pipe(sink: ItemSink<T>): Promise<true> {
    return new Promise<true>((resolve) => {
      this.#piped = resolve;
      const items = this.#items;
      this.#items = null;
      this.#size = 0;
      let i = this.#head;
      if (items !== null) {
        while (i < items.length && this.#piped !== null) this.#hand(sink, items[i++]!);
        // The sink stopped early: what it did not take is dropped, as `return` would.
        if (this.#drop !== undefined) while (i < items.length) this.#drop(items[i++]!);
      }
      this.#head = 0;
      if (this.#piped === null) return;
      if (this.#paused) {
        this.#paused = false;
        this.#source?.resume();
      }
      if (this.#ended) return this.#endPipe();
      this.#sink = sink;
    });
  }

  /** One item to the sink; a closed or throwing sink ends the queue. */
  #hand(sink: ItemSink<T>, item: T): void {
    if (!sink.inputClosed) {
      try {
        return sink.onChunk(item);
      } catch {
        // As a for-await whose body throws: the consumer stopped.
      }
    }
    this.#sink = null;
    this.#drop?.(item);
    this.return();
  }

  #endPipe(): void {
    const piped = this.#piped;
    this.#piped = null;
    this.#sink = null;
    piped?.(true);
  }

  /** No more items: the consumer gets what is buffered, then the end. Idempotent. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#endPipe();
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      waiter(DONE);
    }
  }

  /** The next item, or the end. One call at a time (single consumer). */
  next(): Promise<IteratorResult<T>> {
    const items = this.#items;
    if (items !== null && this.#head < items.length) {
      const item = items[this.#head]!;
      // Release the slot so a consumer that keeps few chunks lets them be freed.
      (items as (T | undefined)[])[this.#head] = undefined;
      this.#head++;
      this.#size -= this.#sizeOf(item);
      if (this.#head === items.length) {
        this.#items = null;
        this.#head = 0;
        this.#size = 0;
        // Resume only when drained, so a pause/resume pair costs at most one
        // round per high-water-mark's worth of data.
        if (this.#paused) {
          this.#paused = false;
          this.#source?.resume();
        }
      }
      return Promise.resolve({ value: item, done: false });
    }
    if (this.#ended) return DONE_PROMISE;
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  /**
   * The consumer stopped early (`break` out of `for await`): buffered items are
   * dropped and later ones are discarded, but the source is resumed so the
   * runtime still notices the peer closing.
   */
  return(): Promise<IteratorResult<T>> {
    const items = this.#items ?? [];
    if (this.#drop !== undefined) {
      for (let i = this.#head; i < items.length; i++) this.#drop(items[i]!);
    }
    this.#items = null;
    this.#head = 0;
    this.#size = 0;
    this.end();
    if (this.#paused) {
      this.#paused = false;
      this.#source?.resume();
    }
    return DONE_PROMISE;
  }

  /** The queue is its own (one-shot) iterator. */
  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
