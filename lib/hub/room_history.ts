/**
 * A room's recent messages in a ring. Sequence numbers in it are consecutive,
 * so "everything after seq N" is an index computation, not a search.
 *
 * Two things drop messages: retention (`capacity`, the `history` setting)
 * and the server-wide memory budget (`history_memory`, see
 * {@linkcode HistoryBudget}), which takes the oldest messages of the least
 * recently active rooms first. With a data directory the memory is a cache:
 * a page that reaches below what the ring holds is answered by a
 * {@linkcode HistorySource} (see `history_paging.ts`).
 *
 * @module
 */
import type { MsgFrame } from "../protocol/server_frames.ts";
import type { Evictable, HistoryBudget } from "./history_budget.ts";
import { msgBytes } from "./msg_bytes.ts";

/** Which kept messages a page asks for (the `history` frame's fields, with the server's caps applied). */
export interface PageQuery {
  /** Only messages with a greater seq; the page is then the oldest such. */
  after?: number;
  /** Only messages with a smaller seq; without `after` the page is the newest such. */
  before?: number;
  /** At most this many messages. */
  limit: number;
  /** At most this many bytes (as {@linkcode msgBytes} counts), except that a page never stops short of one message. */
  maxBytes: number;
}

/** One page of history, ascending seq. */
export interface HistoryPage {
  msgs: MsgFrame[];
  /** More kept messages follow in the paging direction (after the last with `after`, before the first otherwise). */
  more: boolean;
}

/** A page from memory, and whether it wanted messages older than the ring holds. */
export interface MemoryPage extends HistoryPage {
  /** The page ran into the oldest held message while older ones once existed (seq > 1): a disk could know more. */
  reachesPast: boolean;
}

/** Fixed-capacity ring of a room's most recent messages, charged to a memory budget. */
export class RoomHistory implements Evictable {
  #ring: (MsgFrame | undefined)[] = [];
  #bytes: number[] = [];
  #start = 0;
  #size = 0;
  /** Seq of the newest message ever pushed (also when not kept), so an emptied ring still knows where it stands. */
  #lastSeq = 0;
  #heldBytes = 0;
  #budget: HistoryBudget | null = null;

  constructor(public capacity: number) {}

  /** Messages held now. */
  get size(): number {
    return this.#size;
  }

  /** Bytes charged for the messages held now. */
  get bytes(): number {
    return this.#heldBytes;
  }

  /** Seq of the oldest message held; the next seq to come when none is held. */
  get firstSeq(): number {
    return this.#size === 0 ? this.#lastSeq + 1 : this.#at(0).seq;
  }

  /** Charges this history's messages to `budget` from now on (the hub's server-wide one). */
  useBudget(budget: HistoryBudget): void {
    this.#budget = budget;
  }

  /** Appends a message, dropping the oldest past capacity; may make the budget evict elsewhere (or here). */
  push(msg: MsgFrame): void {
    this.#lastSeq = msg.seq;
    if (this.capacity <= 0) return this.clear();
    if (this.#ring.length !== this.capacity) this.#resize();
    const bytes = msgBytes(msg);
    if (this.#size === this.capacity) this.#release(this.#dropOldest());
    const slot = (this.#start + this.#size) % this.capacity;
    this.#ring[slot] = msg;
    this.#bytes[slot] = bytes;
    this.#size++;
    this.#heldBytes += bytes;
    this.#budget?.added(this, bytes);
  }

  /** Budget: drops the oldest held message and returns its bytes (already taken off this ring's count). */
  evictOldest(): number {
    return this.#dropOldest();
  }

  /** Forgets every held message (the room is forgotten, or keeps nothing). */
  clear(): void {
    const bytes = this.#heldBytes;
    this.#ring = [];
    this.#bytes = [];
    this.#start = 0;
    this.#size = 0;
    this.#heldBytes = 0;
    this.#release(bytes);
  }

  /** The last `count` messages, oldest first. */
  last(count: number): MsgFrame[] {
    return this.#slice(Math.max(0, this.#size - Math.max(0, count)), this.#size);
  }

  /** The held messages with seq greater than `seq`, oldest first. */
  after(seq: number): MsgFrame[] {
    if (this.#size === 0) return [];
    return this.#slice(Math.min(this.#size, Math.max(0, seq - this.#at(0).seq + 1)), this.#size);
  }

  /** A page of held messages (see {@linkcode PageQuery}); `reachesPast` says whether older ones might exist elsewhere. */
  page(query: PageQuery): MemoryPage {
    const first = this.firstSeq;
    const last = this.#lastSeq;
    // Seqs the query allows, clipped to what has ever existed.
    const low = Math.max(1, (query.after ?? 0) + 1);
    const high = Math.min(last, (query.before ?? Infinity) - 1);
    if (low > high) return { msgs: [], more: false, reachesPast: false };
    const msgs: MsgFrame[] = [];
    let bytes = 0;
    const fits = (index: number) =>
      msgs.length < query.limit && (msgs.length === 0 || bytes + this.#bytesAt(index) <= query.maxBytes);
    if (query.after !== undefined) {
      // Oldest first from `low`; a `low` older than the ring means the start of the page is not here.
      let seq = Math.max(low, first);
      for (; seq <= high && fits(seq - first); seq++) {
        bytes += this.#bytesAt(seq - first);
        msgs.push(this.#at(seq - first));
      }
      return { msgs, more: seq <= high, reachesPast: low < first };
    }
    let seq = high;
    for (; seq >= Math.max(low, first) && fits(seq - first); seq--) {
      bytes += this.#bytesAt(seq - first);
      msgs.push(this.#at(seq - first));
    }
    msgs.reverse();
    const stoppedAtRing = seq >= low && seq < first;
    return { msgs, more: seq >= Math.max(low, first), reachesPast: stoppedAtRing };
  }

  #at(index: number): MsgFrame {
    return this.#ring[(this.#start + index) % this.#ring.length]!;
  }

  #bytesAt(index: number): number {
    return this.#bytes[(this.#start + index) % this.#ring.length];
  }

  #slice(from: number, to: number): MsgFrame[] {
    const out: MsgFrame[] = [];
    for (let i = from; i < to; i++) out.push(this.#at(i));
    return out;
  }

  /** Takes the oldest message out of the ring; returns its bytes. */
  #dropOldest(): number {
    if (this.#size === 0) return 0;
    const bytes = this.#bytes[this.#start];
    this.#ring[this.#start] = undefined;
    this.#start = (this.#start + 1) % this.#ring.length;
    this.#size--;
    this.#heldBytes -= bytes;
    return bytes;
  }

  #release(bytes: number): void {
    if (bytes > 0 || this.#size === 0) this.#budget?.removed(this, bytes);
  }

  /** Applies a changed capacity (after a reload), keeping the newest messages. */
  #resize(): void {
    while (this.#size > this.capacity) this.#release(this.#dropOldest());
    const kept = this.#slice(0, this.#size);
    const keptBytes = kept.map((_, i) => this.#bytesAt(i));
    this.#ring = new Array(this.capacity);
    this.#bytes = new Array(this.capacity);
    kept.forEach((msg, i) => {
      this.#ring[i] = msg;
      this.#bytes[i] = keptBytes[i];
    });
    this.#start = 0;
  }
}
