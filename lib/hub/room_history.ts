/**
 * A room's last N messages in a ring. Sequence numbers in it are consecutive,
 * so "everything after seq N" is an index computation, not a search.
 *
 * @module
 */
import type { MsgFrame } from "../protocol/server_frames.ts";

/** Fixed-capacity ring of a room's most recent messages. */
export class RoomHistory {
  #ring: (MsgFrame | undefined)[] = [];
  #start = 0;
  #size = 0;

  constructor(public capacity: number) {}

  /** Messages held now. */
  get size(): number {
    return this.#size;
  }

  /** Appends a message, dropping the oldest past capacity. */
  push(msg: MsgFrame): void {
    if (this.capacity <= 0) return;
    if (this.#ring.length !== this.capacity) this.#resize();
    if (this.#size < this.capacity) {
      this.#ring[(this.#start + this.#size) % this.capacity] = msg;
      this.#size++;
    } else {
      this.#ring[this.#start] = msg;
      this.#start = (this.#start + 1) % this.capacity;
    }
  }

  /** The last `count` messages, oldest first. */
  last(count: number): MsgFrame[] {
    return this.#slice(Math.max(0, this.#size - Math.max(0, count)));
  }

  /** The kept messages with seq greater than `seq`, oldest first. */
  after(seq: number): MsgFrame[] {
    if (this.#size === 0) return [];
    const oldest = this.#at(0).seq;
    return this.#slice(Math.min(this.#size, Math.max(0, seq - oldest + 1)));
  }

  #at(index: number): MsgFrame {
    return this.#ring[(this.#start + index) % this.#ring.length]!;
  }

  #slice(from: number): MsgFrame[] {
    const out: MsgFrame[] = [];
    for (let i = from; i < this.#size; i++) out.push(this.#at(i));
    return out;
  }

  /** Applies a changed capacity (after a reload), keeping the newest messages. */
  #resize(): void {
    const kept = this.last(this.capacity);
    this.#ring = new Array(this.capacity);
    kept.forEach((msg, i) => (this.#ring[i] = msg));
    this.#start = 0;
    this.#size = kept.length;
  }
}
